// SPDX-License-Identifier: MIT
#include "engine/rcu/rcu.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/kernel/context.h"
#include "engine/kernel/irq_work.h"
#include "engine/kernel/spinlock.h"
#include "engine/report/report.h"
#include "engine/sched/coverage.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

namespace reclaimfuzz::rcu {
namespace {

using kernel::rcu_head;
using sched::Scheduler;

// MODEL: callbacks pending at once per domain; each model object has at
// most one rcu_head in flight, so the object budget bounds this.
constexpr size_t kMaxCallbacks = 8192;

struct Callback {
  rcu_head* head;
  uint64_t wait_seq;  // ready once gp_seq reaches it
  uint64_t no;        // queue order, for rcu_barrier
  int cpu;
};

struct DomainState {
  Domain domain;
  // rcu_seq (kernel/rcu/rcu.h): low bit set while a GP is in progress.
  uint64_t gp_seq = 0;
  uint64_t wanted = 0;  // highest gp_seq somebody waits for
  std::vector<Callback> cbs;
  uint64_t next_cb_no = 0;
  // Readers the GP in progress waits for.
  bool wait[sched::kMaxTasks] = {};
  uint64_t wait_qs[sched::kMaxTasks] = {};
  bool wait_rcu[sched::kMaxTasks] = {};  // trace GP implying a regular GP
  uint64_t wait_rcu_qs[sched::kMaxTasks] = {};
  char tsan_readers = 0;  // released by readers and updaters, acquired at GP end
  char tsan_gp = 0;       // released at GP end, acquired by callbacks/waiters
  char tsan_cb_done = 0;  // released after each callback, acquired by rcu_barrier*()
};

DomainState g_dom[2];
Settings g_settings;
// SRCU's lock (srcu_usage.lock): spinlock_t upstream, raw after the fix.
kernel::spinlock_t g_srcu_lock;
kernel::raw_spinlock_t g_srcu_raw_lock;
kernel::irq_work g_srcu_irq_work;
int g_cpu_arg[sched::kMaxVcpus];

DomainState& D(Domain d) { return g_dom[static_cast<int>(d)]; }

Scheduler* S() { return Scheduler::Current(); }

sched::TaskKernelState* K() {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return nullptr;
  return &s->task(s->current_task()).k;
}

uint64_t SeqSnap(uint64_t seq) { return (seq + 3) & ~uint64_t{1}; }

bool IsRcuReader(Scheduler& s, const sched::Task& t) {
  if (t.state == sched::TaskState::kDone) return false;
  if (t.k.rcu_read_nesting > 0 || t.k.preempt_count > 0) return true;
  return t.vcpu >= 0 && s.vcpu(t.vcpu).curr == t.id && s.vcpu(t.vcpu).irqs_disabled;
}

bool IsTraceReader(const sched::Task& t) { return t.state != sched::TaskState::kDone && t.k.rcu_trace_nesting > 0; }

void Request(DomainState& d, uint64_t seq) { d.wanted = std::max(d.wanted, seq); }

void Enqueue(DomainState& d, rcu_head* head, kernel::rcu_callback_t func) {
  if (d.cbs.size() >= kMaxCallbacks) {
    check::Report(check::kHang, -1, "more than %zu RCU callbacks pending", kMaxCallbacks);
  }
  head->func = func;
  head->next = nullptr;
  d.cbs.push_back(Callback{head, SeqSnap(d.gp_seq), d.next_cb_no++, kernel::smp_processor_id()});
}

// ---- the grace-period kthread ---------------------------------------------

bool GpWanted(void* arg) {
  DomainState& d = *static_cast<DomainState*>(arg);
  return d.wanted > d.gp_seq;
}

bool GpReadersDone(void* arg) {
  DomainState& d = *static_cast<DomainState*>(arg);
  Scheduler& s = *S();
  for (int i = 0; i < s.num_tasks(); ++i) {
    const sched::Task& t = s.task(i);
    const bool gone = t.state == sched::TaskState::kDone;
    if (d.domain == Domain::kRcu) {
      if (d.wait[i] && !gone && t.k.rcu_qs == d.wait_qs[i]) return false;
    } else {
      if (d.wait[i] && !gone && t.k.trace_qs == d.wait_qs[i]) return false;
      if (d.wait_rcu[i] && !gone && t.k.rcu_qs == d.wait_rcu_qs[i]) return false;
    }
  }
  return true;
}

void GpKthread(DomainState* dp) {
  DomainState& d = *dp;
  Scheduler& s = *S();
  const bool trace = d.domain == Domain::kTasksTrace;
  do {
    // rcu_gp_init(): start, snapshot the readers that pre-exist it.
    d.gp_seq |= 1;
    for (int i = 0; i < s.num_tasks(); ++i) {
      const sched::Task& t = s.task(i);
      if (!trace) {
        d.wait[i] = IsRcuReader(s, t);
        d.wait_qs[i] = t.k.rcu_qs;
        d.wait_rcu[i] = false;
      } else {
        d.wait[i] = IsTraceReader(t);
        d.wait_qs[i] = t.k.trace_qs;
        d.wait_rcu[i] = g_settings.trace_implies_rcu_gp && IsRcuReader(s, t);
        d.wait_rcu_qs[i] = t.k.rcu_qs;
      }
    }
    s.Note(trace ? "trace GP start" : "rcu GP start", static_cast<int64_t>(d.gp_seq >> 1));
    kernel::preemption_point(sched::PointKind::kAccess, trace ? "trace gp wait" : "rcu gp wait");
    if (!s.WaitFor(&GpReadersDone, &d, trace ? "trace GP: readers" : "rcu GP: readers")) return;
    // rcu_gp_cleanup(): end.
    tsan::Acquire(&d.tsan_readers);
    // A trace GP that waited for the regular readers too orders after them.
    if (trace && g_settings.trace_implies_rcu_gp) tsan::Acquire(&g_dom[0].tsan_readers);
    d.gp_seq += 1;
    s.Note(trace ? "trace GP end" : "rcu GP end", static_cast<int64_t>(d.gp_seq >> 1));
    tsan::Release(&d.tsan_gp);
  } while (s.WaitFor(&GpWanted, &d, "gp idle"));
}

// ---- callback invocation: ksoftirqd/N ------------------------------------------

bool ReadyOn(const DomainState& d, int cpu) {
  for (const Callback& c : d.cbs) {
    if (c.cpu == cpu && c.wait_seq <= d.gp_seq) return true;
  }
  return false;
}

bool HasReadyCallbacks(void* arg) {
  const int cpu = *static_cast<int*>(arg);
  return ReadyOn(g_dom[0], cpu) || ReadyOn(g_dom[1], cpu);
}

// The domain whose callback runs now (-1: none), for reports.
int g_invoking = -1;

// Read-section nesting per (task, interrupt depth, domain): an interrupt
// handler's section ends when its own nesting reaches zero, even while the
// task it interrupted stays inside one.
int g_depth_nesting[sched::kMaxTasks][3][2];
void (*g_section_end_hook)(int domain) = nullptr;

int* DepthNesting(int domain) {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return nullptr;
  return &g_depth_nesting[s->current_task()][s->current_depth()][domain];
}
void DepthBegin(int domain) {
  if (int* n = DepthNesting(domain)) ++*n;
}
void DepthEnd(int domain) {
  int* n = DepthNesting(domain);
  if (n != nullptr && *n > 0 && --*n == 0 && g_section_end_hook != nullptr) g_section_end_hook(domain);
}

void InvokeReady(DomainState& d, int cpu) {
  for (;;) {
    auto it = std::find_if(d.cbs.begin(), d.cbs.end(),
                           [&](const Callback& c) { return c.cpu == cpu && c.wait_seq <= d.gp_seq; });
    if (it == d.cbs.end()) return;
    rcu_head* head = it->head;
    tsan::IgnoreBegin();  // erase() memmoves through an interceptor: bookkeeping, not model
    d.cbs.erase(it);
    tsan::IgnoreEnd();
    tsan::Acquire(&d.tsan_gp);
    kernel::preemption_point(sched::PointKind::kAccess,
                             d.domain == Domain::kRcu ? "rcu_do_batch" : "srcu_invoke_callbacks");
    const int outer = g_invoking;
    g_invoking = static_cast<int>(d.domain);
    head->func(head);
    g_invoking = outer;
    tsan::Release(&d.tsan_cb_done);  // rcu_barrier() returns after the callback's accesses
  }
}

void SoftirqBody(int cpu) {
  Scheduler& s = *S();
  do {
    kernel::local_bh_disable();
    InvokeReady(g_dom[0], cpu);
    InvokeReady(g_dom[1], cpu);
    kernel::local_bh_enable();
  } while (s.WaitFor(&HasReadyCallbacks, &g_cpu_arg[cpu], "ksoftirqd idle"));
}

void SrcuIrqWork(kernel::irq_work*) {
  DomainState& d = D(Domain::kTasksTrace);
  Request(d, SeqSnap(d.gp_seq));
}

struct SeqWait {
  DomainState* d;
  uint64_t seq;
};
bool SeqDone(void* arg) {
  auto* w = static_cast<SeqWait*>(arg);
  return w->d->gp_seq >= w->seq;
}

struct BarrierWait {
  DomainState* d;
  uint64_t upto;
};
bool BarrierDone(void* arg) {
  auto* w = static_cast<BarrierWait*>(arg);
  for (const Callback& c : w->d->cbs) {
    if (c.no < w->upto) return false;
  }
  return true;
}

void Synchronize(DomainState& d, const char* what) {
  kernel::might_sleep(what);
  tsan::Release(&d.tsan_readers);
  SeqWait w{&d, SeqSnap(d.gp_seq)};
  Request(d, w.seq);
  if (Scheduler* s = S(); s != nullptr && s->current_task() >= 0) s->WaitFor(&SeqDone, &w, what);
  tsan::Acquire(&d.tsan_gp);
}

void Barrier(DomainState& d, const char* what) {
  kernel::might_sleep(what);
  BarrierWait w{&d, d.next_cb_no};
  if (Scheduler* s = S(); s != nullptr && s->current_task() >= 0) s->WaitFor(&BarrierDone, &w, what);
  tsan::Acquire(&d.tsan_gp);
  tsan::Acquire(&d.tsan_cb_done);
}

}  // namespace

const char* DomainName(Domain d) { return d == Domain::kRcu ? "rcu" : "rcu_tasks_trace"; }

// Not in the fuzzer's coverage (engine/sched/coverage.h): what it clears
// is what the previous execution left.
RF_NO_COVERAGE absl::Status Reset(sched::Scheduler& s, const Settings& settings) {
  g_settings = settings;
  g_invoking = -1;
  std::fill_n(&g_depth_nesting[0][0][0], sizeof(g_depth_nesting) / sizeof(int), 0);
  for (int i = 0; i < 2; ++i) {
    DomainState& d = g_dom[i];
    d.domain = static_cast<Domain>(i);
    d.gp_seq = 0;
    d.wanted = 0;
    d.cbs.clear();
    d.cbs.reserve(kMaxCallbacks);
    d.next_cb_no = 0;
    std::fill(std::begin(d.wait), std::end(d.wait), false);
    std::fill(std::begin(d.wait_rcu), std::end(d.wait_rcu), false);
  }
  kernel::spin_lock_init(&g_srcu_lock, "srcu_usage.lock");
  kernel::raw_spin_lock_init(&g_srcu_raw_lock, "srcu_usage.lock (raw)");
  kernel::init_irq_work(&g_srcu_irq_work, &SrcuIrqWork);
  for (DomainState* d : {&g_dom[0], &g_dom[1]}) {
    absl::StatusOr<int> id = s.SpawnService(d->domain == Domain::kRcu ? "rcu_gp" : "rcu_tasks_trace_gp",
                                            sched::TaskKind::kKthread, -1, &GpWanted, d, [d] { GpKthread(d); });
    if (!id.ok()) return id.status();
  }
  for (int c = 0; c < s.num_vcpus(); ++c) {
    g_cpu_arg[c] = c;
    absl::StatusOr<int> id = s.SpawnService(absl::StrCat("ksoftirqd/", c), sched::TaskKind::kSoftirq, c,
                                            &HasReadyCallbacks, &g_cpu_arg[c], [c] { SoftirqBody(c); });
    if (!id.ok()) return id.status();
  }
  return absl::OkStatus();
}

const Settings& settings() { return g_settings; }
void SetTraceImpliesRcuGp(bool implies) { g_settings.trace_implies_rcu_gp = implies; }

std::vector<Reader> ActiveReaders(Domain d) {
  std::vector<Reader> out;
  Scheduler* s = S();
  if (s == nullptr) return out;
  for (int i = 0; i < s->num_tasks(); ++i) {
    const sched::Task& t = s->task(i);
    if (d == Domain::kRcu && IsRcuReader(*s, t)) out.push_back(Reader{i, t.k.rcu_reader_start});
    if (d == Domain::kTasksTrace && IsTraceReader(t)) out.push_back(Reader{i, t.k.trace_reader_start});
  }
  return out;
}

uint64_t CompletedGps(Domain d) { return D(d).gp_seq >> 1; }
size_t PendingCallbacks(Domain d) { return D(d).cbs.size(); }
int InvokingDomain() { return g_invoking; }
unsigned ReaderDomainsHere() {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return 0;
  const int* n = g_depth_nesting[s->current_task()][s->current_depth()];
  return (n[0] > 0 ? 1u : 0u) | (n[1] > 0 ? 2u : 0u);
}
void SetSectionEndHook(void (*hook)(int domain)) { g_section_end_hook = hook; }
void SetDerefHook(void (*hook)(const void* p, const char* what)) { kernel::rcu_internal::g_deref_hook = hook; }

bool Idle() {
  for (const DomainState& d : g_dom) {
    if (!d.cbs.empty() || d.wanted > d.gp_seq || (d.gp_seq & 1) != 0) return false;
  }
  return true;
}

}  // namespace reclaimfuzz::rcu

namespace reclaimfuzz::kernel {

namespace rcu_internal {
void (*g_deref_hook)(const void* p, const char* what) = nullptr;
}  // namespace rcu_internal

using rcu::D;
using rcu::Domain;

void rcu_read_lock() {
  if (sched::TaskKernelState* k = rcu::K()) {
    if (k->rcu_read_nesting++ == 0) k->rcu_reader_start = rcu::S()->step();
    rcu::DepthBegin(0);
  }
  preemption_point(sched::PointKind::kAccess, "rcu_read_lock");
}

void rcu_read_unlock() {
  preemption_point(sched::PointKind::kAccess, "rcu_read_unlock");
  sched::TaskKernelState* k = rcu::K();
  if (k == nullptr) return;
  if (k->rcu_read_nesting == 0) {
    check::Report(check::kContextViolation, -1, "rcu_read_unlock() without rcu_read_lock()");
  }
  if (--k->rcu_read_nesting == 0) {
    tsan::Release(&D(Domain::kRcu).tsan_readers);
    rcu_note_qs_if_quiescent();
  }
  rcu::DepthEnd(0);
}

bool rcu_read_lock_held() {
  sched::TaskKernelState* k = rcu::K();
  return k != nullptr && (k->rcu_read_nesting > 0 || k->preempt_count > 0 || irqs_disabled() || in_interrupt());
}

void rcu_read_lock_trace() {
  if (sched::TaskKernelState* k = rcu::K()) {
    if (k->rcu_trace_nesting++ == 0) k->trace_reader_start = rcu::S()->step();
    rcu::DepthBegin(1);
  }
  preemption_point(sched::PointKind::kAccess, "rcu_read_lock_trace");
}

void rcu_read_unlock_trace() {
  preemption_point(sched::PointKind::kAccess, "rcu_read_unlock_trace");
  sched::TaskKernelState* k = rcu::K();
  if (k == nullptr) return;
  if (k->rcu_trace_nesting == 0) {
    check::Report(check::kContextViolation, -1, "rcu_read_unlock_trace() without rcu_read_lock_trace()");
  }
  if (--k->rcu_trace_nesting == 0) {
    tsan::Release(&D(Domain::kTasksTrace).tsan_readers);
    ++k->trace_qs;
  }
  rcu::DepthEnd(1);
}

bool rcu_read_lock_trace_held() {
  sched::TaskKernelState* k = rcu::K();
  return k != nullptr && k->rcu_trace_nesting > 0;
}

bool bpf_rcu_lock_held() { return rcu_read_lock_held() || rcu_read_lock_trace_held(); }

void call_rcu(rcu_head* head, rcu_callback_t func) {
  assert_not_nmi("call_rcu()");
  preemption_point(sched::PointKind::kAtomic, "call_rcu");
  auto& d = D(Domain::kRcu);
  tsan::Release(&d.tsan_readers);
  rcu::Enqueue(d, head, func);
  rcu::Request(d, rcu::SeqSnap(d.gp_seq));
}

void call_rcu_tasks_trace(rcu_head* head, rcu_callback_t func) {
  assert_not_nmi("call_rcu_tasks_trace()");
  preemption_point(sched::PointKind::kAtomic, "call_rcu_tasks_trace");
  auto& d = D(Domain::kTasksTrace);
  tsan::Release(&d.tsan_readers);
  irqflags_t flags;
  if (rcu::g_settings.trace_gp_start == rcu::Settings::TraceGpStart::kSrcuSpinlock) {
    // srcu_gp_start_if_needed(): spin_lock_irqsave_sdp_contention(), then
    // the GP is started (and work queued) right here.
    spin_lock_irqsave(&rcu::g_srcu_lock, flags);
    rcu::Enqueue(d, head, func);
    rcu::Request(d, rcu::SeqSnap(d.gp_seq));
    spin_unlock_irqrestore(&rcu::g_srcu_lock, flags);
  } else {
    // After "rcu: Use an intermediate irq_work to start process_srcu()":
    // raw lock, and the GP starts from irq_work.
    raw_spin_lock_irqsave(&rcu::g_srcu_raw_lock, flags);
    rcu::Enqueue(d, head, func);
    raw_spin_unlock_irqrestore(&rcu::g_srcu_raw_lock, flags);
    irq_work_queue(&rcu::g_srcu_irq_work);
  }
}

void synchronize_rcu() { rcu::Synchronize(D(Domain::kRcu), "synchronize_rcu()"); }
void synchronize_rcu_tasks_trace() { rcu::Synchronize(D(Domain::kTasksTrace), "synchronize_rcu_tasks_trace()"); }
void rcu_barrier() { rcu::Barrier(D(Domain::kRcu), "rcu_barrier()"); }
void rcu_barrier_tasks_trace() { rcu::Barrier(D(Domain::kTasksTrace), "rcu_barrier_tasks_trace()"); }
bool rcu_trace_implies_rcu_gp() { return rcu::g_settings.trace_implies_rcu_gp; }

unsigned long get_state_synchronize_rcu() { return rcu::SeqSnap(D(Domain::kRcu).gp_seq); }
bool poll_state_synchronize_rcu(unsigned long cookie) { return D(Domain::kRcu).gp_seq >= cookie; }
unsigned long get_state_synchronize_rcu_tasks_trace() { return rcu::SeqSnap(D(Domain::kTasksTrace).gp_seq); }
bool poll_state_synchronize_rcu_tasks_trace(unsigned long cookie) { return D(Domain::kTasksTrace).gp_seq >= cookie; }

}  // namespace reclaimfuzz::kernel
