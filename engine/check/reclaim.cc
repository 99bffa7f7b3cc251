#include "engine/check/reclaim.h"

#include <algorithm>
#include <vector>

#include "engine/check/report.h"
#include "engine/kernel/slab.h"
#include "engine/rcu/rcu.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::check {
namespace {

struct UnlinkRecord {
  bool set = false;
  Readers readers = Readers::kRcu;
  unsigned long rcu_cookie = 0;
  unsigned long trace_cookie = 0;
  uint64_t step = 0;
};

// MODEL: programs holding pointers at once; a program that obtains more
// than this many keeps only the first ones tracked.
constexpr int kMaxHeld = 64;

struct Held {
  int task = -1;
  int depth = 0;
  int64_t id = -1;
  bool used = false;
};

struct State {
  OracleOptions options;
  std::vector<UnlinkRecord> unlinked;  // by object id; sized at Reset
  size_t unlinked_used = 0;            // records past this one are clear
  Held held[kMaxHeld];
};

State& St() {
  static State* s = new State();  // never destroyed: used until exit
  return *s;
}

void Where(int* task, int* depth, uint64_t* step) {
  sched::Scheduler* s = sched::Scheduler::Current();
  *task = s ? s->current_task() : -1;
  *depth = s ? s->current_depth() : 0;
  *step = s ? s->step() : 0;
}

void OnFree(int64_t id) {
  State& st = St();
  const kernel::slab::Object* o = kernel::slab::Get(id);
  if (st.options.early_free && id >= 0 && static_cast<size_t>(id) < st.unlinked.size() &&
      st.unlinked[id].set) {
    const UnlinkRecord& r = st.unlinked[id];
    const bool trace_done = kernel::poll_state_synchronize_rcu_tasks_trace(r.trace_cookie);
    const bool rcu_done = kernel::poll_state_synchronize_rcu(r.rcu_cookie) ||
                          (kernel::rcu_trace_implies_rcu_gp() && trace_done);
    if (r.readers == Readers::kPrograms && !trace_done) {
      Report(kEarlyFree, id,
             "%s #%lld freed %llu steps after its unlink at step %llu, before any RCU Tasks "
             "Trace grace period completed: a sleepable program (rcu_read_lock_trace) may "
             "still hold it (%llu trace GPs, %llu regular GPs completed so far)",
             o ? o->type : "object", static_cast<long long>(id),
             static_cast<unsigned long long>((o ? o->free_step : r.step) - r.step),
             static_cast<unsigned long long>(r.step),
             static_cast<unsigned long long>(rcu::CompletedGps(rcu::Domain::kTasksTrace)),
             static_cast<unsigned long long>(rcu::CompletedGps(rcu::Domain::kRcu)));
    }
    if (!rcu_done) {
      Report(kEarlyFree, id,
             "%s #%lld freed after its unlink at step %llu before any RCU grace period "
             "completed: an RCU reader may still hold it",
             o ? o->type : "object", static_cast<long long>(id),
             static_cast<unsigned long long>(r.step));
    }
  }
  if (st.options.reader_saw_freed) {
    for (const Held& h : st.held) {
      if (h.used && h.id == id) {
        sched::Scheduler* s = sched::Scheduler::Current();
        const char* holder = s != nullptr && h.task >= 0 && h.task < s->num_tasks()
                                 ? s->task(h.task).name.c_str()
                                 : "?";
        Report(kReaderSawFreed, id,
               "%s #%lld freed while a program of %s%s that obtained it is still inside its "
               "read section",
               o ? o->type : "object", static_cast<long long>(id), holder,
               h.depth == 2   ? " (NMI)"
               : h.depth == 1 ? " (hardirq)"
                              : "");
      }
    }
  }
}

}  // namespace

const char* ReadersName(Readers r) {
  return r == Readers::kPrograms ? "programs (trace + regular GP)" : "RCU readers (regular GP)";
}

void ResetOracles(const OracleOptions& options, size_t max_objects) {
  State& st = St();
  st.options = options;
  // Clears only what the last execution used: a fuzz target resets once
  // per input, and most inputs touch a few dozen objects of thousands.
  if (st.unlinked.size() != max_objects) {
    st.unlinked.assign(max_objects, UnlinkRecord{});
  } else {
    std::fill_n(st.unlinked.begin(), std::min(st.unlinked_used, st.unlinked.size()), UnlinkRecord{});
  }
  st.unlinked_used = 0;
  for (Held& h : st.held) h = Held{};
  kernel::slab::SetFreeHook(&OnFree);
}

const OracleOptions& oracle_options() { return St().options; }

void NoteUnlinked(const void* obj, Readers readers) {
  State& st = St();
  const int64_t id = kernel::slab::IdOf(obj);
  if (id < 0 || static_cast<size_t>(id) >= st.unlinked.size()) return;
  UnlinkRecord& r = st.unlinked[id];
  st.unlinked_used = std::max(st.unlinked_used, static_cast<size_t>(id) + 1);
  int task, depth;
  uint64_t step;
  Where(&task, &depth, &step);
  r.set = true;
  r.readers = readers;
  r.rcu_cookie = kernel::get_state_synchronize_rcu();
  r.trace_cookie = kernel::get_state_synchronize_rcu_tasks_trace();
  r.step = step;
  if (sched::Scheduler* s = sched::Scheduler::Current()) s->Note("unlinked", id);
}

int64_t NoteReaderGot(const void* obj, const char* what) {
  State& st = St();
  const int64_t id = kernel::slab::IdOf(obj);
  if (id < 0) {
    if (st.options.reader_saw_freed) {
      Report(kReaderSawFreed, kernel::slab::IdContaining(obj),
             "a program obtained a pointer (%s) to an object that is not live", what);
    }
    return -1;
  }
  int task, depth;
  uint64_t step;
  Where(&task, &depth, &step);
  for (Held& h : st.held) {
    if (h.used && h.task == task && h.depth == depth && h.id == id) return id;
  }
  for (Held& h : st.held) {
    if (!h.used) {
      h = Held{task, depth, id, true};
      break;
    }
  }
  return id;
}

void NoteReaderAccess(int64_t id, const char* what) {
  if (!St().options.reader_saw_freed || id < 0) return;
  const kernel::slab::Object* o = kernel::slab::Get(id);
  if (o != nullptr && o->freed) {
    Report(kReaderSawFreed, id,
           "a program %s %s #%lld, freed at step %llu, inside its read section", what, o->type,
           static_cast<long long>(id), static_cast<unsigned long long>(o->free_step));
  }
}

void NoteReaderDone() {
  int task, depth;
  uint64_t step;
  Where(&task, &depth, &step);
  for (Held& h : St().held) {
    if (h.used && h.task == task && h.depth == depth) h = Held{};
  }
}

}  // namespace reclaimfuzz::check
