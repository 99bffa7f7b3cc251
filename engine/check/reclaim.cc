// SPDX-License-Identifier: MIT
#include "engine/check/reclaim.h"

#include <algorithm>
#include <vector>

#include "engine/kernel/slab.h"
#include "engine/rcu/rcu.h"
#include "engine/report/report.h"
#include "engine/sched/coverage.h"
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

// MODEL: dereferenced objects tracked at once (readers x objects).
constexpr int kMaxDerefs = 128;

// One object a reader obtained through rcu_dereference*().
struct Deref {
  int task = -1;
  int depth = 0;
  int64_t id = -1;
  unsigned domains = 0;  // bit 0: inside rcu_read_lock(); bit 1: rcu_read_lock_trace()
  uint64_t step = 0;
  uint64_t rcu_gps = 0;  // grace periods completed when it was obtained
  uint64_t trace_gps = 0;
  const char* what = "";
};

struct State {
  OracleOptions options;
  Deref derefs[kMaxDerefs];
  int derefs_used = 0;                 // slots past this one are clear
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
  if (st.options.early_free && id >= 0 && static_cast<size_t>(id) < st.unlinked.size() && st.unlinked[id].set) {
    const UnlinkRecord& r = st.unlinked[id];
    const bool trace_done = kernel::poll_state_synchronize_rcu_tasks_trace(r.trace_cookie);
    const bool rcu_done =
        kernel::poll_state_synchronize_rcu(r.rcu_cookie) || (kernel::rcu_trace_implies_rcu_gp() && trace_done);
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
             o ? o->type : "object", static_cast<long long>(id), static_cast<unsigned long long>(r.step));
    }
  }
  if (st.options.reader_saw_freed) {
    for (int i = 0; i < st.derefs_used; ++i) {
      const Deref& d = st.derefs[i];
      if (d.domains == 0 || d.id != id) continue;
      sched::Scheduler* s = sched::Scheduler::Current();
      const char* holder = s != nullptr && d.task >= 0 && d.task < s->num_tasks() ? s->task(d.task).name.c_str() : "?";
      const int invoking = rcu::InvokingDomain();
      const uint64_t rcu_gps = rcu::CompletedGps(rcu::Domain::kRcu) - d.rcu_gps;
      const uint64_t trace_gps = rcu::CompletedGps(rcu::Domain::kTasksTrace) - d.trace_gps;
      const bool trace_only = d.domains == 2;
      Report(kReaderSawFreed, id,
             "%s #%lld freed by %s (%s) while %s%s, which obtained it at step %llu through %s "
             "inside %s, is still inside that section; since then %llu regular and %llu RCU "
             "Tasks Trace grace periods completed; the reader needs %s",
             o ? o->type : "object", static_cast<long long>(id), o ? o->free_site : "?",
             invoking == 0   ? "in a regular RCU callback"
             : invoking == 1 ? "in an RCU Tasks Trace callback"
                             : "directly, in no RCU callback",
             holder,
             d.depth == 2   ? " (NMI)"
             : d.depth == 1 ? " (hardirq)"
                            : "",
             static_cast<unsigned long long>(d.step), d.what,
             trace_only       ? "rcu_read_lock_trace() only"
             : d.domains == 1 ? "rcu_read_lock()"
                              : "rcu_read_lock() and rcu_read_lock_trace()",
             static_cast<unsigned long long>(rcu_gps), static_cast<unsigned long long>(trace_gps),
             trace_only ? "an RCU Tasks Trace grace period" : "a regular RCU grace period");
    }
    for (const Held& h : st.held) {
      if (h.used && h.id == id) {
        sched::Scheduler* s = sched::Scheduler::Current();
        const char* holder =
            s != nullptr && h.task >= 0 && h.task < s->num_tasks() ? s->task(h.task).name.c_str() : "?";
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

// Not in the fuzzer's coverage (engine/sched/coverage.h): what it clears
// is what the previous execution left.
RF_NO_COVERAGE void ResetOracles(const OracleOptions& options, size_t max_objects) {
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
  std::fill_n(st.derefs, st.derefs_used, Deref{});
  st.derefs_used = 0;
  kernel::slab::SetFreeHook(&OnFree);
  rcu::SetSectionEndHook(&NoteRcuSectionEnd);
  rcu::SetDerefHook(&NoteRcuDeref);
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
    Report(kReaderSawFreed, id, "a program %s %s #%lld, freed at step %llu, inside its read section", what, o->type,
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

void NoteRcuDeref(const void* p, const char* what) {
  State& st = St();
  const unsigned domains = rcu::ReaderDomainsHere();
  if (p == nullptr || !st.options.reader_saw_freed || domains == 0) return;
  const int64_t id = kernel::slab::IdContaining(p);
  if (id < 0) return;  // not heap memory of this execution (a static, a freed object's stale copy)
  int task, depth;
  uint64_t step;
  Where(&task, &depth, &step);
  int free_slot = -1;
  for (int i = 0; i < st.derefs_used; ++i) {
    Deref& d = st.derefs[i];
    if (d.domains != 0 && d.task == task && d.depth == depth && d.id == id) {
      d.domains |= domains;
      return;
    }
    if (d.domains == 0 && free_slot < 0) free_slot = i;
  }
  if (free_slot < 0) {
    if (st.derefs_used == kMaxDerefs) return;
    free_slot = st.derefs_used++;
  }
  st.derefs[free_slot] = Deref{
      task, depth, id, domains, step, rcu::CompletedGps(rcu::Domain::kRcu), rcu::CompletedGps(rcu::Domain::kTasksTrace),
      what};
}

void NoteHelperReturn() {
  State& st = St();
  int task, depth;
  uint64_t step;
  Where(&task, &depth, &step);
  for (int i = 0; i < st.derefs_used; ++i) {
    Deref& d = st.derefs[i];
    if (d.domains != 0 && d.task == task && d.depth == depth) d.domains = 0;
  }
}

void NoteRcuSectionEnd(int domain) {
  State& st = St();
  int task, depth;
  uint64_t step;
  Where(&task, &depth, &step);
  const unsigned bit = domain == 0 ? 1u : 2u;
  for (int i = 0; i < st.derefs_used; ++i) {
    Deref& d = st.derefs[i];
    if (d.domains != 0 && d.task == task && d.depth == depth) d.domains &= ~bit;
  }
}

}  // namespace reclaimfuzz::check
