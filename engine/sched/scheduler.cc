// SPDX-License-Identifier: MIT
#include "engine/sched/scheduler.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/sched/coverage.h"
#include "engine/sched/tsan_annotations.h"

namespace reclaimfuzz::sched {
namespace {

// Real-time signals carry interrupts. libFuzzer owns SIGUSR1/SIGUSR2 and
// AFL++ watches SIGSEGV/SIGABRT, so neither is disturbed.
int HardirqSignal() { return SIGRTMIN; }
int NmiSignal() { return SIGRTMIN + 1; }

void InstallHandlers(void (*handler)(int)) {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);  // an NMI may nest inside a hardirq
  sa.sa_flags = SA_RESTART;
  sigaction(HardirqSignal(), &sa, nullptr);
  sigaction(NmiSignal(), &sa, nullptr);
}

[[noreturn]] void Fatal(const char* msg) {
  // Engine misuse: a bug in the caller, not a finding about the model.
  fprintf(stderr, "reclaimfuzz: fatal: %s\n", msg);
  abort();
}

}  // namespace

const char* IrqKindName(IrqKind kind) { return kind == IrqKind::kNmi ? "nmi" : "hardirq"; }

const char* RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kHang:
      return "hang";
    case RunStatus::kBudget:
      return "budget";
    case RunStatus::kAbandoned:
      return "abandoned";
  }
  return "?";
}

Scheduler::Scheduler() { InstallHandlers(&Scheduler::SignalHandler); }

Scheduler::~Scheduler() {
  if (native_live_) NativeReclaim();
  NativeStopThreads();
  if (this_thread_ == this) this_thread_ = nullptr;
  for (auto& f : fibers_) {
    if (f) f->Reclaim();
  }
}

void Scheduler::SetCurrent(Scheduler* s) { this_thread_ = s; }

// Lets machine threads of the previous execution return from their idle
// wait; anything else still on a stack is abandoned, including a machine
// thread blocked inside its work (a kworker in map_free's
// synchronize_rcu()): returning from that wait would run the rest of the
// work, which kernel code cannot be told to skip. Not in the fuzzer's
// coverage: what it does depends on the previous input, not this one.
RF_NO_COVERAGE void Scheduler::ReclaimTasks() {
  if (native_live_) {
    NativeReclaim();
    for (int i = 0; i < num_tasks_; ++i) fibers_[i]->Reclaim();
    return;
  }
  shutting_down_ = true;
  for (int i = 0; i < num_tasks_; ++i) {
    Task& t = *tasks_[i];
    Fiber& f = *fibers_[i];
    if (t.service && t.state == TaskState::kBlocked && f.in_entry() && t.wait_pred == t.idle_pred) {
      t.shutdown = true;
      current_ = i;
      f.Enter();
      current_ = -1;
    }
    f.Reclaim();
  }
  shutting_down_ = false;
  tsan::Acquire(&tsan_join_);
}

absl::Status Scheduler::Reset(const Options& options) {
  if (in_run_) return absl::FailedPreconditionError("Reset() called while the scheduler is running");
  fail_offered_ = false;
  fail_chosen_ = false;
  if (options.num_vcpus < 1 || options.num_vcpus > kMaxVcpus) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_vcpus = ", options.num_vcpus, ": the machine has 1 to ", kMaxVcpus, " vCPUs"));
  }
  if (options.step_budget == 0) {
    return absl::InvalidArgumentError("step_budget = 0: an execution needs at least one step");
  }
  if (options.choice == nullptr && !options.native.enabled) {
    return absl::InvalidArgumentError("no choice source given");
  }

  this_thread_ = this;
  ReclaimTasks();

  options_ = options;
  num_vcpus_ = options.num_vcpus;
  budget_ = options.step_budget;
  step_ = 0;
  current_ = -1;
  next_ = -1;
  num_tasks_ = 0;
  num_irqs_ = 0;
  pending_signal_irq_ = -1;
  signal_deliveries_ = 0;
  direct_nested_deliveries_ = 0;
  abandon_reason_ = nullptr;
  abandoned_ = false;
  abandoned_in_handler_ = false;
  budget_hit_ = false;
  began_ = false;
  for (auto& v : vcpus_) v = Vcpu{};
  hk_vcpu_ = Vcpu{};
  for (auto& p : irqs_) {
    p.delivered = false;
    p.ran = false;
  }
  trace_.Reset(options.trace_capacity, options.trace_context);
  schedule_.clear();
  if (options.record_schedule) schedule_.reserve(kScheduleReserve);
  return absl::OkStatus();
}

// Task and fiber slots are created the first time an execution needs them
// and reused after. Not in the fuzzer's coverage: whether a slot exists
// depends on the inputs run before, not on this one.
RF_NO_COVERAGE absl::Status Scheduler::EnsureTask(int id) {
  if (!tasks_[id]) tasks_[id] = std::make_unique<Task>();
  if (!fibers_[id]) {
    fibers_[id] = std::make_unique<Fiber>();
    static const char* const kFiberNames[kMaxTasks] = {
        "task0",  "task1",  "task2",  "task3",  "task4",  "task5",  "task6",  "task7",  "task8",  "task9",  "task10",
        "task11", "task12", "task13", "task14", "task15", "task16", "task17", "task18", "task19", "task20", "task21",
        "task22", "task23", "task24", "task25", "task26", "task27", "task28", "task29", "task30", "task31"};
    if (absl::Status s = fibers_[id]->Init(kFiberNames[id]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Scheduler::Spawn(std::string name, TaskKind kind, int vcpu, std::function<void()> body) {
  if (num_tasks_ >= kMaxTasks) {
    return absl::ResourceExhaustedError(absl::StrCat("more than kMaxTasks = ", kMaxTasks, " tasks"));
  }
  if (vcpu < -1 || vcpu >= num_vcpus_) {
    return absl::InvalidArgumentError(
        absl::StrCat("task '", name, "' on vCPU ", vcpu, ", but the machine has ", num_vcpus_));
  }
  if (!body) return absl::InvalidArgumentError(absl::StrCat("task '", name, "' has no body"));
  const int id = num_tasks_;
  if (absl::Status s = EnsureTask(id); !s.ok()) return s;
  Task& t = *tasks_[id];
  t.id = id;
  t.name = std::move(name);
  t.kind = kind;
  t.vcpu = vcpu;
  t.service = false;
  t.state = TaskState::kRunnable;
  t.body = std::move(body);
  t.wait_pred = nullptr;
  t.wait_arg = nullptr;
  t.op[0] = t.op[1] = t.op[2] = -1;
  t.wait_what = nullptr;
  t.idle_pred = nullptr;
  t.shutdown = false;
  t.k = TaskKernelState{};
  t.migratable = false;
  t.fiber = fibers_[id].get();
  t.fiber->Arm(&Scheduler::TaskEntry, &t);
  ++num_tasks_;
  if (vcpu >= 0 && vcpus_[vcpu].curr < 0) vcpus_[vcpu].curr = id;
  if (native() && in_run_) NativeStart(id);
  return id;
}

absl::StatusOr<int> Scheduler::SpawnService(std::string name, TaskKind kind, int vcpu, WaitPredicate pred, void* arg,
                                            std::function<void()> body) {
  if (pred == nullptr) return absl::InvalidArgumentError("service without a wait predicate");
  absl::StatusOr<int> id = Spawn(std::move(name), kind, vcpu, std::move(body));
  if (!id.ok()) return id;
  Task& t = *tasks_[*id];
  t.service = true;
  t.state = TaskState::kBlocked;
  t.wait_pred = pred;
  t.idle_pred = pred;
  t.wait_arg = arg;
  t.wait_what = "work";
  if (vcpu >= 0 && vcpus_[vcpu].curr == *id) vcpus_[vcpu].curr = -1;
  return id;
}

absl::StatusOr<int> Scheduler::AddInterrupt(IrqKind kind, int vcpu, std::string name, std::function<void()> fn) {
  if (num_irqs_ >= kMaxInterrupts) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than kMaxInterrupts = ", kMaxInterrupts, " interrupt programs"));
  }
  if (vcpu < 0 || vcpu >= num_vcpus_) {
    return absl::InvalidArgumentError(
        absl::StrCat("interrupt '", name, "' on vCPU ", vcpu, ", but the machine has ", num_vcpus_));
  }
  if (!fn) return absl::InvalidArgumentError(absl::StrCat("interrupt '", name, "' has no body"));
  InterruptProgram& p = irqs_[num_irqs_];
  p.kind = kind;
  p.vcpu = vcpu;
  p.name = std::move(name);
  p.fn = std::move(fn);
  p.delivered = false;
  p.ran = false;
  return num_irqs_++;
}

void Scheduler::TaskEntry(void* arg) {
  Task* t = static_cast<Task*>(arg);
  // Like pthread_create/pthread_join: a task sees what the harness set up
  // before Run(), and the harness sees what finished tasks did. Tasks get no
  // edge from each other this way.
  tsan::Acquire(&this_thread_->tsan_spawn_);
  t->body();
  tsan::Release(&this_thread_->tsan_join_);
  t->state = TaskState::kDone;
  this_thread_->Record(EventKind::kDone, "return");
}

// ---- context queries ------------------------------------------------------

bool Scheduler::in_softirq() const { return current_ >= 0 && (tasks_[current_]->k.preempt_count & kSoftirqMask) != 0; }
bool Scheduler::in_task() const { return current_depth() == 0 && (current_ < 0 || !in_softirq()); }
const char* PreemptModelName(PreemptModel m) {
  switch (m) {
    case PreemptModel::kVoluntary:
      return "voluntary";
    case PreemptModel::kRt:
      return "rt";
    case PreemptModel::kFull:
      break;
  }
  return "full";
}

std::optional<PreemptModel> ParsePreemptModel(std::string_view name) {
  for (PreemptModel m : {PreemptModel::kVoluntary, PreemptModel::kFull, PreemptModel::kRt}) {
    if (name == PreemptModelName(m)) return m;
  }
  return std::nullopt;
}

bool Scheduler::preemptible() const {
  if (current_ < 0) return false;
  return tasks_[current_]->k.preempt_count == 0 && !irqs_disabled() && current_depth() == 0;
}

std::vector<std::string> Scheduler::TaskNames() const {
  std::vector<std::string> names;
  for (int i = 0; i < num_tasks_; ++i) names.push_back(tasks_[i]->name);
  return names;
}

std::string Scheduler::Timeline(size_t max_rows) const {
  std::vector<std::string> names = TaskNames();
  Trace::TimelineOptions o;
  o.num_vcpus = num_vcpus_;
  o.task_names = names;
  o.max_rows = max_rows;
  return trace_.Timeline(o);
}

void Scheduler::Record(EventKind kind, const char* label, int64_t arg, const char* func) {
  Event e;
  e.step = step_;
  e.arg = arg;
  e.label = label;
  e.func = func;
  e.task = static_cast<int16_t>(current_);
  const int depth = current_depth();
  e.op = current_ >= 0 && trace_.context() ? tasks_[current_]->op[depth] : int16_t{-1};
  e.vcpu = static_cast<int8_t>(current_vcpu());
  e.depth = static_cast<uint8_t>(depth);
  e.kind = kind;
  trace_.Add(e);
}

void Scheduler::Note(const char* label, int64_t arg, const char* func) { Record(EventKind::kNote, label, arg, func); }

void Scheduler::SetOp(int16_t op) {
  if (current_ >= 0) tasks_[current_]->op[current_depth()] = op;
}

// ---- choosing ---------------------------------------------------------------

bool Scheduler::Eligible(int u, int at) const {
  const Task& t = *tasks_[u];
  if (t.state != TaskState::kRunnable) return false;
  if (t.vcpu < 0) return true;  // housekeeping: has its own CPU
  const int cur = vcpus_[t.vcpu].curr;
  if (cur == u) return true;
  if (cur < 0 || tasks_[cur]->state != TaskState::kRunnable) return true;  // vCPU idle
  // Preemption of the task at the point, on its own vCPU.
  return at >= 0 && cur == at && preemptible() &&
         (options_.preempt != PreemptModel::kVoluntary || point_kind_ == PointKind::kResched);
}

int Scheduler::IdleVcpu(int except) const {
  for (int c = 0; c < num_vcpus_; ++c) {
    if (c == except) continue;
    const int cur = vcpus_[c].curr;
    if (cur < 0 || tasks_[cur]->state != TaskState::kRunnable) return c;
  }
  return -1;
}

absl::Status Scheduler::SetMigratable(int task, bool migratable) {
  if (task < 0 || task >= num_tasks_) {
    return absl::InvalidArgumentError(absl::StrCat("no task ", task));
  }
  if (tasks_[task]->vcpu < 0) {
    return absl::InvalidArgumentError("housekeeping threads have no vCPU to migrate from");
  }
  tasks_[task]->migratable = migratable;
  return absl::OkStatus();
}

size_t Scheduler::BuildOptions(int at, bool pick, Option* out) const {
  size_t n = 0;
  if (!pick) out[n++] = Option{Option::kContinue, -1, -1, -1};
  for (int u = 0; u < num_tasks_; ++u) {
    if (u == at) continue;
    const Task& t = *tasks_[u];
    if (Eligible(u, at)) out[n++] = Option{Option::kRun, static_cast<int16_t>(u), -1, static_cast<int8_t>(t.vcpu)};
    // Off-CPU and free to migrate: may also run on an idle vCPU.
    if (t.migratable && t.state == TaskState::kRunnable && t.k.migrate_disable == 0 && vcpus_[t.vcpu].curr != u) {
      const int to = IdleVcpu(t.vcpu);
      if (to >= 0) out[n++] = Option{Option::kRun, static_cast<int16_t>(u), -1, static_cast<int8_t>(to)};
    }
  }
  if (!pick && at >= 0 && fail_offered_) out[n++] = Option{Option::kFail, -1, -1, -1};
  if (!pick && at >= 0) {
    const int c = tasks_[at]->vcpu;
    if (c >= 0) {
      for (int i = 0; i < num_irqs_; ++i) {
        if (!irqs_[i].delivered && irqs_[i].vcpu == c) {
          out[n++] = Option{Option::kInterrupt, -1, static_cast<int16_t>(i), -1};
        }
      }
    }
  }
  return n;
}

size_t Scheduler::Decide(const PointHeader& header, const Option* options, size_t n) {
  PointView view{header, absl::MakeConstSpan(options, n)};
  tsan::IgnoreBegin();
  size_t idx = options_.choice->Choose(view);
  tsan::IgnoreEnd();
  if (idx >= n) idx = n - 1;  // a source bug must not index out of range
  if (options_.record_schedule && idx != DefaultChoice(view) && schedule_.size() < schedule_.capacity()) {
    schedule_.push_back(Decision{header.step, options[idx]});
  }
  return idx;
}

bool Scheduler::Consult(const PointHeader& h) {
  tsan::IgnoreBegin();
  const bool consult = options_.choice->Consult(h);
  tsan::IgnoreEnd();
  return consult;
}

void Scheduler::Point(PointKind kind, const char* label, const char* func) {
  if (current_ < 0) return;  // main-context code (teardown checks): nothing to schedule
  ++step_;
  // Record()'s event, with the context read once: the task, its vCPU and
  // the interrupt depth do not change until this point decides.
  Task& t = *tasks_[current_];
  const int vcpu = t.vcpu;
  const Vcpu& v = vcpu < 0 ? hk_vcpu_ : vcpus_[vcpu];
  const int depth = v.nmi_depth > 0 ? 2 : v.hardirq_depth > 0 ? 1 : 0;
  Event e;
  e.step = step_;
  e.arg = 0;
  e.label = label;
  e.func = func;
  e.task = static_cast<int16_t>(current_);
  e.op = trace_.context() ? t.op[depth] : int16_t{-1};
  e.vcpu = static_cast<int8_t>(vcpu);
  e.depth = static_cast<uint8_t>(depth);
  e.kind = EventKind::kPoint;
  trace_.Add(e);
  if (step_ > budget_) {
    budget_hit_ = true;
    abandoned_in_handler_ = depth > 0;  // its signal is still blocked
    abandon_reason_ = "step budget exhausted";
    tsan::Release(&tsan_join_);
    if (native()) NativeExit();
    Fiber::Current()->ExitToMain();
  }
  if (native()) {
    NativePoint(kind, depth);
    return;
  }
  const PointHeader h{step_, current_, vcpu, kind, depth > 0, label};
  if (depth > 0) {
    PointInHandler(h, depth);
    return;
  }
  if (v.irq_work_pending) MaybeDeliverIrqWork();
  point_kind_ = kind;
  // Fast path: most points continue without building any option.
  if (kind != PointKind::kSpin && !Consult(h)) return;
  PointSlow(h);
}

bool Scheduler::FailPoint(const char* label, const char* func) {
  if (current_ < 0 || current_depth() > 0) {
    Point(PointKind::kAccess, label, func);
    return false;
  }
  fail_offered_ = true;
  fail_chosen_ = false;
  Point(PointKind::kAccess, label, func);
  fail_offered_ = false;
  return fail_chosen_;
}

void Scheduler::PointInHandler(const PointHeader& h, int depth) {
  // Inside a handler nothing else runs; only an NMI can nest into a hardirq.
  if (depth == 2) return;
  Option opts[kMaxInterrupts + 1];
  size_t n = 0;
  opts[n++] = Option{Option::kContinue, -1, -1, -1};
  for (int i = 0; i < num_irqs_; ++i) {
    if (!irqs_[i].delivered && irqs_[i].kind == IrqKind::kNmi && irqs_[i].vcpu == h.vcpu) {
      opts[n++] = Option{Option::kInterrupt, -1, static_cast<int16_t>(i), -1};
    }
  }
  if (n == 1 || !Consult(h)) return;
  const size_t idx = Decide(h, opts, n);
  if (opts[idx].kind == Option::kInterrupt) Deliver(opts[idx].irq);
}

void Scheduler::PointSlow(const PointHeader& h) {
  Option opts[kMaxTasks + kMaxInterrupts + 1];
  const size_t n = BuildOptions(current_, false, opts);
  if (n <= 1) return;
  const Option o = opts[Decide(h, opts, n)];
  switch (o.kind) {
    case Option::kContinue:
      return;
    case Option::kInterrupt:
      Deliver(o.irq);
      return;
    case Option::kFail:
      fail_chosen_ = true;
      return;
    case Option::kRun:
      next_ = o.task;
      next_vcpu_ = o.vcpu;
      SwitchOut();
      return;
  }
}

void Scheduler::SwitchOut() {
  tsan::Release(&tsan_join_);  // the harness may read what tasks did, after Run()
  tasks_[current_]->fiber->SwitchToMain();
}

bool Scheduler::WaitFor(WaitPredicate pred, void* arg, const char* what) {
  if (current_ < 0) {
    if (pred(arg)) return true;
    Fatal("WaitFor() from the main context on a condition that does not hold");
  }
  if (current_depth() > 0) Fatal("WaitFor() inside an interrupt handler (handlers cannot block)");
  Task& t = *tasks_[current_];
  if (shutting_down_ || t.shutdown) return false;
  if (pred(arg)) return true;
  if (native()) {
    t.state = TaskState::kBlocked;
    t.wait_pred = pred;
    t.wait_arg = arg;
    t.wait_what = what;
    Record(EventKind::kBlock, what);
    return NativeBlock(t);
  }
  for (;;) {
    t.state = TaskState::kBlocked;
    t.wait_pred = pred;
    t.wait_arg = arg;
    t.wait_what = what;
    Record(EventKind::kBlock, what);
    SwitchOut();
    if (t.shutdown) return false;
    // WakeBlocked() saw the condition from the main context; the waiter
    // reads it again in its own, as wait_event() does. Besides catching a
    // condition that stopped holding, that read is what orders, for
    // ThreadSanitizer (fiber switches synchronize nothing), the waker's
    // accesses before the waiter's: a predicate's acquire load of what the
    // waker released.
    if (pred(arg)) return true;
  }
}

void Scheduler::WakeBlocked() {
  for (int i = 0; i < num_tasks_; ++i) {
    Task& t = *tasks_[i];
    if (t.state == TaskState::kBlocked && t.wait_pred(t.wait_arg)) Wake(i);
  }
}

void Scheduler::Wake(int i) {
  Task& t = *tasks_[i];
  t.state = TaskState::kRunnable;
  Event e{step_,           0, t.wait_what, nullptr, static_cast<int16_t>(i), t.op[0], static_cast<int8_t>(t.vcpu), 0,
          EventKind::kWake};
  trace_.Add(e);
}

bool Scheduler::UserTasksDone() const {
  for (int i = 0; i < num_tasks_; ++i) {
    if (!tasks_[i]->service && tasks_[i]->state != TaskState::kDone) return false;
  }
  return true;
}

// ---- interrupts -------------------------------------------------------------

void Scheduler::Deliver(int irq) {
  InterruptProgram& p = irqs_[irq];
  p.delivered = true;
  Vcpu& v = cur_vcpu();
  if (p.kind == IrqKind::kHardirq && v.irqs_disabled) {
    v.pending_hardirqs |= 1u << irq;
    Record(EventKind::kIrqPending, "hardirq held: IRQs off", irq);
    return;
  }
  pending_signal_irq_ = irq;
  raise(p.kind == IrqKind::kNmi ? NmiSignal() : HardirqSignal());
  if (!p.ran && current_depth() > 0) {
    // ThreadSanitizer queues a signal raised inside a signal handler until
    // that handler returns. The nested NMI then runs here, on the same
    // stack, exactly as the handler would run it; the queued signal finds
    // nothing pending and is ignored.
    pending_signal_irq_ = -1;
    ++direct_nested_deliveries_;
    RunInterrupt(irq);
    --signal_deliveries_;  // RunInterrupt counted it as a signal delivery
  }
  if (!p.ran) Fatal("interrupt signal was not delivered synchronously by raise()");
}

void Scheduler::MaybeDeliverIrqWork() {
  const int c = current_vcpu();
  if (c < 0 || irq_work_fn_ == nullptr) return;
  Vcpu& v = vcpus_[c];
  if (!v.irq_work_pending || v.irqs_disabled || current_depth() > 0) return;
  pending_signal_irq_ = kIrqWorkSignalId;
  // The handler may be re-armed by an NMI nested in it (irq_work_queue()
  // from NMI), so check that it ran, not that nothing is pending.
  const uint64_t deliveries = signal_deliveries_;
  raise(HardirqSignal());
  if (signal_deliveries_ == deliveries) {
    Fatal("irq_work self-IPI was not delivered synchronously by raise()");
  }
}

void Scheduler::RunIrqWork() {
  Vcpu& v = cur_vcpu();
  const bool saved_irqs = v.irqs_disabled;
  v.irqs_disabled = true;
  ++v.hardirq_depth;
  ++signal_deliveries_;
  v.irq_work_pending = false;
  tasks_[current_]->op[current_depth()] = -1;  // irq_work runs no BPF operation
  Record(EventKind::kIrqEnter, "irq_work");
  irq_work_fn_(current_vcpu());
  Record(EventKind::kIrqExit, "irq_work");
  --v.hardirq_depth;
  v.irqs_disabled = saved_irqs;
}

void Scheduler::Yield(const char* what) {
  if (current_ < 0) return;
  if (current_depth() > 0) Fatal("Yield() inside an interrupt handler (handlers cannot sleep)");
  Record(EventKind::kBlock, what);
  if (native()) {
    NativeYield();
    return;
  }
  next_ = -1;
  SwitchOut();
}

void Scheduler::OnIrqsEnabled() {
  if (current_ < 0 || current_depth() > 0) return;
  MaybeDeliverIrqWork();
  Vcpu& v = cur_vcpu();
  while (v.pending_hardirqs != 0 && !v.irqs_disabled) {
    const int irq = __builtin_ctz(v.pending_hardirqs);
    v.pending_hardirqs &= ~(1u << irq);
    pending_signal_irq_ = irq;
    raise(HardirqSignal());
    if (!irqs_[irq].ran) Fatal("held hardirq was not delivered at local_irq_restore");
  }
}

void Scheduler::SignalHandler(int sig) {
  Scheduler* s = this_thread_;
  if (s == nullptr || s->pending_signal_irq_ < 0 || s->current_ < 0) {
    // Not ours (someone else raised SIGRTMIN): ignore, as the default would kill.
    (void)sig;
    return;
  }
  const int irq = s->pending_signal_irq_;
  s->pending_signal_irq_ = -1;
  if (irq == kIrqWorkSignalId) {
    s->RunIrqWork();
  } else {
    s->RunInterrupt(irq);
  }
}

void Scheduler::RunInterrupt(int irq) {
  InterruptProgram& p = irqs_[irq];
  Vcpu& v = cur_vcpu();
  const bool saved_irqs = v.irqs_disabled;
  v.irqs_disabled = true;  // hardware masks IRQs on entry
  if (p.kind == IrqKind::kNmi) {
    ++v.nmi_depth;
  } else {
    ++v.hardirq_depth;
  }
  ++signal_deliveries_;
  p.ran = true;
  tasks_[current_]->op[current_depth()] = -1;  // until its program starts one
  Record(EventKind::kIrqEnter, p.kind == IrqKind::kNmi ? "nmi" : "hardirq", irq);
  p.fn();
  Record(EventKind::kIrqExit, p.kind == IrqKind::kNmi ? "nmi" : "hardirq", irq);
  if (p.kind == IrqKind::kNmi) {
    --v.nmi_depth;
  } else {
    --v.hardirq_depth;
  }
  v.irqs_disabled = saved_irqs;
}

// ---- the main loop ------------------------------------------------------------

RunStatus Scheduler::Run() {
  if (in_run_) Fatal("Run() called re-entrantly");
  if (options_.choice == nullptr && !native()) Fatal("Run() before a successful Reset()");
  this_thread_ = this;
  if (!began_) {
    began_ = true;
    ExecutionShape shape;
    shape.num_tasks = num_tasks_;
    shape.num_interrupts = num_irqs_;
    shape.step_budget = budget_;
    tsan::IgnoreBegin();
    if (!native()) options_.choice->Begin(shape);
    tsan::IgnoreEnd();
  }
  if (abandoned_) return RunStatus::kAbandoned;
  if (native()) return NativeRun();
  in_run_ = true;
  tsan::Release(&tsan_spawn_);
  RunStatus status = RunStatus::kCompleted;
  Option opts[kMaxTasks + 1];
  for (;;) {
    int next = next_;
    int next_vcpu = next_vcpu_;
    next_ = -1;
    if (next < 0) {
      WakeBlocked();
      const size_t n = BuildOptions(-1, true, opts);
      if (n == 0) {
        status = UserTasksDone() ? RunStatus::kCompleted : RunStatus::kHang;
        break;
      }
      if (++step_ > budget_) {
        budget_hit_ = true;
        abandon_reason_ = "step budget exhausted";
        status = RunStatus::kBudget;
        break;
      }
      PointHeader h{step_, -1, -1, PointKind::kPick, false, "pick"};
      const Option& o = opts[Decide(h, opts, n)];
      next = o.task;
      next_vcpu = o.vcpu;
    }
    Task& t = *tasks_[next];
    TakeVcpu(next, next_vcpu);
    current_ = next;
    Record(EventKind::kRun, "run");
    t.fiber->Enter();
    current_ = -1;
    if (abandoned_ || budget_hit_) {
      if (abandoned_in_handler_) {
        // We left a signal handler by longjmp: its signal is still blocked.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, HardirqSignal());
        sigaddset(&set, NmiSignal());
        sigprocmask(SIG_UNBLOCK, &set, nullptr);
      }
      status = abandoned_ ? RunStatus::kAbandoned : RunStatus::kBudget;
      break;
    }
  }
  in_run_ = false;
  tsan::Acquire(&tsan_join_);
  return status;
}

// `next` runs on `next_vcpu` (its own, or an idle one it migrates to): the
// trace notes a migration and the preemption of the task it displaces.
void Scheduler::TakeVcpu(int next, int next_vcpu) {
  Task& t = *tasks_[next];
  if (t.vcpu >= 0 && next_vcpu >= 0 && next_vcpu != t.vcpu) {
    Event e{
        step_, next_vcpu,       "migrate", nullptr, static_cast<int16_t>(next), t.op[0], static_cast<int8_t>(t.vcpu),
        0,     EventKind::kNote};
    trace_.Add(e);
    t.vcpu = next_vcpu;
  }
  if (t.vcpu >= 0 && vcpus_[t.vcpu].curr != next) {
    const int prev = vcpus_[t.vcpu].curr;
    if (prev >= 0 && tasks_[prev]->state == TaskState::kRunnable) {
      Event e{step_,
              next,
              "preempted",
              nullptr,
              static_cast<int16_t>(prev),
              tasks_[prev]->op[0],
              static_cast<int8_t>(t.vcpu),
              0,
              EventKind::kPreempt};
      trace_.Add(e);
    }
    vcpus_[t.vcpu].curr = next;
  }
}

void Scheduler::Abandon(const char* why) {
  abandon_reason_ = why;
  abandoned_ = true;
  if (native() && current_ >= 0) {
    abandoned_in_handler_ = current_depth() > 0;
    tsan::Release(&tsan_join_);
    NativeExit();
  }
  if (current_ >= 0 && Fiber::Current() != nullptr) {
    abandoned_in_handler_ = current_depth() > 0;
    tsan::Release(&tsan_join_);
    Fiber::Current()->ExitToMain();
  }
  if (main_guard_) longjmp(main_abandon_jmp_, 1);
  fprintf(stderr, "reclaimfuzz: execution abandoned outside any run: %s\n", why);
  abort();
}

bool Scheduler::GuardMain(const std::function<void()>& fn) {
  if (main_guard_) Fatal("GuardMain() nested");
  main_guard_ = true;
  if (setjmp(main_abandon_jmp_) != 0) {
    main_guard_ = false;
    return false;
  }
  fn();
  main_guard_ = false;
  return true;
}

}  // namespace reclaimfuzz::sched
