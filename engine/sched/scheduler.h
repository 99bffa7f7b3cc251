// SPDX-License-Identifier: MIT
// The deterministic virtual machine: vCPUs, tasks, preemption points,
// interrupts.
//
// Model. Up to kMaxVcpus virtual CPUs. Every task is a fiber on the one OS
// thread; exactly one fiber executes at a time, so the interleaving of vCPUs
// is exactly the sequence of choices the ChoiceSource makes. A task is pinned
// to a vCPU (process threads, kworkers, ksoftirqd) or is a housekeeping
// thread with no vCPU (the RCU grace-period kthreads).
//
// At each preemption point in task T on vCPU c the options are:
//   - continue T;
//   - run the task currently on another vCPU (vCPU interleaving);
//   - run a task waiting on a vCPU whose current task cannot run;
//   - preempt T with another task of vCPU c, only if T is preemptible
//     (preempt_count == 0, IRQs on, not in an interrupt);
//   - deliver an interrupt program targeted at vCPU c.
//
// Interrupts are real signals. Delivering interrupt program P raises
// SIGRTMIN (hardirq) or SIGRTMIN+1 (NMI) in the current fiber; the handler
// runs P nested on the interrupted task's stack, with in_hardirq()/in_nmi()
// true for vCPU c. A hardirq on a vCPU whose IRQs are off stays pending until
// IRQs are restored; an NMI is never masked and may nest inside a hardirq.
// While a handler runs no other task runs. The handler path allocates
// nothing: interrupt programs, the trace and all tables are preallocated.
//
// Concurrency contract: all state here is touched only by the fiber that is
// executing, one at a time; none of it is model memory, so none of it is
// TSan-instrumented (sanitizers/tsan_ignorelist.txt).
//
// Options::native replaces the fibers and the choice source with threads
// the OS schedules (scheduler_native.cc), for the stress baseline only; the
// contract holds there with "the thread holding the GIL" for "the fiber".
#ifndef RECLAIMFUZZ_ENGINE_SCHED_SCHEDULER_H_
#define RECLAIMFUZZ_ENGINE_SCHED_SCHEDULER_H_

#include <pthread.h>

#include <csetjmp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/sched/choice.h"
#include "engine/sched/fiber.h"
#include "engine/sched/trace.h"

namespace reclaimfuzz::sched {

// Limits: named so that errors can cite them.
inline constexpr int kMaxVcpus = 4;               // docs/design.md §5: 1-4 vCPUs
inline constexpr int kMaxTasks = 32;              // user tasks + machine threads
inline constexpr int kMaxInterrupts = 32;         // interrupt programs per execution
inline constexpr int kMaxHeldLocks = 31;          // per-task lock stack (lockdep)
inline constexpr size_t kScheduleReserve = 4096;  // recorded decisions kept per run

// preempt_count layout, as the kernel's (include/linux/preempt.h). Hardirq
// and NMI nesting live on the vCPU instead (Vcpu::hardirq_depth/nmi_depth).
inline constexpr int kPreemptMask = 0xff;
inline constexpr int kSoftirqOffset = 0x100;
inline constexpr int kSoftirqMask = 0xff00;

enum class TaskKind : uint8_t {
  kProcess,  // a user/process-context thread running BPF programs
  kKworker,  // the per-vCPU workqueue worker
  kSoftirq,  // the per-vCPU softirq thread (RCU callbacks): in_softirq()
  kKthread,  // a housekeeping kernel thread (RCU grace periods)
};

enum class TaskState : uint8_t { kRunnable, kBlocked, kDone };

enum class IrqKind : uint8_t { kHardirq, kNmi };

const char* IrqKindName(IrqKind kind);

// A lock held by a context, as lockdep-lite sees it.
struct HeldLock {
  const void* lock;
  const char* name;
  uint8_t wait_type;  // kernel LD_WAIT_* value of the lock
  uint8_t depth;      // interrupt depth at which it was taken
};

// Per-task kernel state. The kernel keeps these in task_struct (preempt
// count is per-CPU on x86 but is saved and restored with the task).
struct TaskKernelState {
  int preempt_count = 0;
  int migrate_disable = 0;
  int rcu_read_nesting = 0;       // regular RCU readers
  int rcu_trace_nesting = 0;      // RCU Tasks Trace readers
  uint64_t rcu_reader_start = 0;  // step the outermost regular reader began
  uint64_t trace_reader_start = 0;
  uint64_t rcu_qs = 0;    // bumped when a regular reader section ends
  uint64_t trace_qs = 0;  // bumped when a trace reader section ends
  HeldLock held[kMaxHeldLocks];
  int nheld = 0;
};

using WaitPredicate = bool (*)(void* arg);

struct Task {
  int id = -1;
  std::string name;
  TaskKind kind = TaskKind::kProcess;
  int vcpu = -1;            // -1: housekeeping, runs without a vCPU
  bool migratable = false;  // may move to an idle vCPU when not migrate_disable()d
  bool service = false;     // a machine thread: not waited for at completion
  TaskState state = TaskState::kRunnable;
  std::function<void()> body;
  WaitPredicate wait_pred = nullptr;
  void* wait_arg = nullptr;
  WaitPredicate idle_pred = nullptr;  // a service's idle wait (SpawnService's pred)
  const char* wait_what = nullptr;
  bool shutdown = false;  // set when the execution ends while it waits
  TaskKernelState k;
  Fiber* fiber = nullptr;
  // The BPF operation each context of the task runs (by interrupt depth:
  // task, hardirq, NMI), as the front end numbers them (SetOp); -1 none.
  int16_t op[3] = {-1, -1, -1};
};

struct Vcpu {
  int curr = -1;  // task that owns the vCPU
  bool irqs_disabled = false;
  int hardirq_depth = 0;
  int nmi_depth = 0;
  uint32_t pending_hardirqs = 0;  // bitmask of interrupt ids held while IRQs are off
  bool irq_work_pending = false;  // self-IPI raised by irq_work_queue()
};

struct InterruptProgram {
  IrqKind kind = IrqKind::kHardirq;
  int vcpu = 0;
  std::string name;
  std::function<void()> fn;
  bool delivered = false;  // each program is delivered at most once
  bool ran = false;
};

// How a Run() phase ended.
enum class RunStatus : uint8_t {
  kCompleted,  // every user task finished; machine threads idle
  kHang,       // some task never finishes and nothing can run
  kBudget,     // the step budget ran out
  kAbandoned,  // a finding stopped the execution (see check/report.h)
};
const char* RunStatusName(RunStatus s);

// When a task may be preempted by another task of its own vCPU (the
// kernel's CONFIG_PREEMPT_*). Other vCPUs run in parallel under every model.
enum class PreemptModel : uint8_t {
  kFull,       // CONFIG_PREEMPT: at any point where preemptible()
  kVoluntary,  // CONFIG_PREEMPT_VOLUNTARY (Debian's): only at kResched points
  // CONFIG_PREEMPT_RT: preempted as kFull. What RT changes beyond that,
  // spinlock_t as a sleeping lock and threaded softirqs, is not modelled
  // (the local-storage trees take raw spinlocks only; the softirq
  // housekeeping tasks are preemptible threads in every model).
  kRt,
};
const char* PreemptModelName(PreemptModel m);
// "voluntary", "full" or "rt"; nullopt otherwise.
std::optional<PreemptModel> ParsePreemptModel(std::string_view name);

// The native-thread mode (scheduler_native.cc): every task on a pthread of
// its own, the OS deciding who runs, interrupts from a timer thread. Not
// deterministic; the baseline a stress test stands for (docs/design.md §3).
struct NativeOptions {
  bool enabled = false;
  uint64_t seed = 1;  // the timer's: which interrupt arrives when
  // Mean time between two interrupts (exponential), from the first Run().
  uint32_t irq_mean_us = 200;
  // How long a task keeps its vCPU before another task of that vCPU may
  // preempt it at a preemptible point (the scheduler tick).
  uint32_t quantum_us = 1000;
};

struct Options {
  int num_vcpus = 2;
  PreemptModel preempt = PreemptModel::kFull;
  uint64_t step_budget = 100000;
  ChoiceSource* choice = nullptr;                   // required
  size_t trace_capacity = Trace::kDefaultCapacity;  // 0: hash only
  bool trace_context = true;                        // events keep function and operation (Trace::Reset)
  bool record_schedule = false;                     // keep non-default decisions for replay
  NativeOptions native;                             // choice is not used when enabled
};

// One non-default decision, enough to replay a run (choice_replay.h).
struct Decision {
  uint64_t step;
  Option option;
};

class Scheduler {
 public:
  Scheduler();
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The scheduler of this OS thread (nullptr if none is running). Inline:
  // every kernel helper of the code under test asks.
  static Scheduler* Current() { return this_thread_; }

  // Whether this execution runs in the native-thread mode (Options::native):
  // what the OS schedules in real time, not what a choice source picks.
  bool native() const { return options_.native.enabled; }

  // Starts a new execution: forgets every task, interrupt and trace. Errors
  // on bad options (vCPUs outside 1..kMaxVcpus, zero budget, no choice).
  absl::Status Reset(const Options& options);

  // Adds a task (before or during Run). Errors past kMaxTasks or on a vCPU
  // out of range.
  absl::StatusOr<int> Spawn(std::string name, TaskKind kind, int vcpu, std::function<void()> body);

  // Lets a task move to an idle vCPU whenever it is off-CPU and not inside
  // migrate_disable() (process threads are migratable in the kernel).
  absl::Status SetMigratable(int task, bool migratable);

  // Adds a machine thread that first waits for pred(arg), then runs body.
  // Its body loops with WaitFor() and returns when WaitFor() says the
  // execution is over.
  absl::StatusOr<int> SpawnService(std::string name, TaskKind kind, int vcpu, WaitPredicate pred, void* arg,
                                   std::function<void()> body);

  // Registers an interrupt program for a vCPU; the choice source decides
  // when (and whether) it is delivered.
  absl::StatusOr<int> AddInterrupt(IrqKind kind, int vcpu, std::string name, std::function<void()> fn);

  // Runs until every user task is done and machine threads are idle, the
  // budget is spent, nothing can run, or a finding abandons the execution.
  // May be called again (a later phase, e.g. teardown) after kCompleted.
  RunStatus Run();

  // ---- Called from model code running in a task -------------------------

  // A preemption point. `label` must be a string literal (used in traces);
  // `func`, the function whose code it is in (__func__ of the call site),
  // is shown in timelines.
  void Point(PointKind kind, const char* label, const char* func = nullptr);

  // A preemption point that also offers the option "fail" (an allocation
  // that the kernel may fail under memory pressure): true if the choice
  // source took it. Interrupt handlers are never offered it.
  bool FailPoint(const char* label, const char* func = nullptr);

  // The BPF operation the running context starts (the front end's index;
  // -1: none): every event it records until the next SetOp carries it.
  void SetOp(int16_t op);

  // Blocks the current task until pred(arg) holds. Returns false if the
  // execution ended while waiting (machine threads then return). Once woken,
  // the task evaluates pred(arg) itself before it returns (and blocks again
  // if it no longer holds), so a predicate that reads with acquire atomics
  // orders the waker's accesses before the waiter's for ThreadSanitizer.
  bool WaitFor(WaitPredicate pred, void* arg, const char* what);

  // IRQs on the current vCPU were just restored: delivers held hardirqs
  // and pending irq_work.
  void OnIrqsEnabled();

  // The running task gives up its vCPU (a sleep): the next pick decides who
  // runs, and may pick it again.
  void Yield(const char* what);

  // irq_work: RaiseIrqWork(cpu) is the self-IPI; the handler installed here
  // runs in hardirq context on that vCPU (through the signal) at its next
  // preemption point with IRQs on.
  void SetIrqWorkHandler(void (*fn)(int cpu)) { irq_work_fn_ = fn; }
  void RaiseIrqWork(int cpu) { vcpus_[cpu].irq_work_pending = true; }
  bool irq_work_pending(int cpu) const { return vcpus_[cpu].irq_work_pending; }

  // A model event for the trace (alloc, free, unlink, GP end ...).
  void Note(const char* label, int64_t arg = 0, const char* func = nullptr);

  // Stops the execution now (from a task, a handler or the main context).
  [[noreturn]] void Abandon(const char* why);

  // Runs main-context code (teardown checks) so that Abandon() from inside it
  // returns here: false if it was abandoned.
  bool GuardMain(const std::function<void()>& fn);

  // ---- Queries -----------------------------------------------------------
  int num_vcpus() const { return num_vcpus_; }
  uint64_t step() const { return step_; }
  int current_task() const { return current_; }
  Task& task(int id) { return *tasks_[id]; }
  const Task& task(int id) const { return *tasks_[id]; }
  int num_tasks() const { return num_tasks_; }
  Vcpu& vcpu(int c) { return vcpus_[c]; }
  // vCPU of the running context (-1 for housekeeping threads).
  int current_vcpu() const;
  // Interrupt nesting on the running context: 0 task, 1 hardirq, 2 NMI.
  int current_depth() const;
  bool in_nmi() const;
  bool in_hardirq() const;
  bool in_softirq() const;
  bool in_task() const;
  bool irqs_disabled() const;
  bool preemptible() const;
  PreemptModel preempt_model() const { return options_.preempt; }
  bool running() const { return in_run_; }
  // The vCPU state of the running context (a pseudo-vCPU for housekeeping).
  Vcpu& vcpu_state() { return cur_vcpu(); }

  const Trace& trace() const { return trace_; }
  const std::vector<Decision>& schedule() const { return schedule_; }
  const InterruptProgram& interrupt(int id) const { return irqs_[id]; }
  int num_interrupts() const { return num_irqs_; }
  // Interrupt handlers entered through the signal handler this execution.
  uint64_t signal_deliveries() const { return signal_deliveries_; }
  // Nested interrupts run without a signal because the sanitizer runtime
  // defers signals raised inside a handler (TSan only; 0 elsewhere).
  uint64_t direct_nested_deliveries() const { return direct_nested_deliveries_; }
  const char* abandon_reason() const { return abandon_reason_; }
  std::vector<std::string> TaskNames() const;
  std::string Timeline(size_t max_rows = 80) const;
  // Ends the tasks of the last execution: machine threads waiting for work
  // return, anything else still on a stack is abandoned. Reset() does it
  // for the execution before; a fuzz target calls it when it is done with
  // an execution, so that the code this runs counts in that input's
  // coverage and not in the next one's. Never while Run() is running.
  void ReclaimTasks();

 private:
  absl::Status EnsureTask(int id);
  static void TaskEntry(void* arg);
  static void SignalHandler(int sig);
  void RunInterrupt(int irq);
  void RunIrqWork();
  void MaybeDeliverIrqWork();
  void Deliver(int irq);
  void Record(EventKind kind, const char* label, int64_t arg = 0, const char* func = nullptr);
  bool Eligible(int task, int at_task) const;
  int IdleVcpu(int except) const;
  size_t BuildOptions(int at_task, bool pick, Option* out) const;
  size_t Decide(const PointHeader& header, const Option* options, size_t n);
  const Vcpu& cur_vcpu() const;
  Vcpu& cur_vcpu();
  void WakeBlocked();
  void Wake(int task);  // a blocked task's condition holds: runnable again
  bool UserTasksDone() const;
  void SwitchOut();
  bool Consult(const PointHeader& h);
  void PointInHandler(const PointHeader& h, int depth);
  void PointSlow(const PointHeader& h);
  void TakeVcpu(int next, int next_vcpu);

  // ---- native mode (scheduler_native.cc) ----
  // One per task slot; its thread is created once and serves the slot's
  // task in every later native execution.
  struct NativeSlot {
    Scheduler* sched = nullptr;
    int id = -1;
    bool started = false;             // has a task of this execution
    bool thread_up = false;           // its thread exists
    int gen = 0;                      // assignments handed to the thread (a futex word)
    int busy = 0;                     // 1 from an assignment until the thread is done with it
    int quit = 0;                     // the scheduler is going away
    int alive = 0;                    // the thread has not returned
    jmp_buf exit;                     // NativeExit() lands here, on the task's thread
    bool parked_preemptible = false;  // left the GIL at a point where it may be preempted
    uint64_t on_vcpu_since_ns = 0;    // took its vCPU then (the quantum)
  };
  void NativeStart(int id);
  RunStatus NativeRun();
  void NativePoint(PointKind kind, int depth);
  bool NativeBlock(Task& t);
  void NativeYield();
  [[noreturn]] void NativeExit();
  void NativeReclaim();
  void NativeResume(int me);
  void NativeLeave(int me);
  bool NativeCanRun(int me);
  void NativeDeliverArrived(int depth);
  bool NativeStuck() const;
  static void* NativeThreadMain(void* arg);
  void NativeServe(NativeSlot* slot);
  void NativeStopThreads();
  static void SetCurrent(Scheduler* s);                          // Current() on a native task's thread
  static inline thread_local Scheduler* this_thread_ = nullptr;  // Current()
  static void* NativeTimerMain(void* arg);

  Options options_;
  int num_vcpus_ = 1;
  uint64_t step_ = 0;
  uint64_t budget_ = 0;
  int current_ = -1;                           // task whose fiber is executing, or -1 (main)
  int next_ = -1;                              // requested by a task at a point
  int next_vcpu_ = -1;                         // where next_ runs (migration target or its own)
  PointKind point_kind_ = PointKind::kAccess;  // of the point being decided
  bool fail_offered_ = false;                  // inside FailPoint()
  bool fail_chosen_ = false;
  bool in_run_ = false;
  bool shutting_down_ = false;
  int num_tasks_ = 0;
  int num_irqs_ = 0;
  int pending_signal_irq_ = -1;
  uint64_t signal_deliveries_ = 0;
  uint64_t direct_nested_deliveries_ = 0;
  const char* abandon_reason_ = nullptr;
  bool abandoned_ = false;
  bool abandoned_in_handler_ = false;
  bool budget_hit_ = false;
  bool began_ = false;
  Vcpu hk_vcpu_;  // pseudo-vCPU state of housekeeping threads
  void (*irq_work_fn_)(int cpu) = nullptr;
  static constexpr int kIrqWorkSignalId = kMaxInterrupts;  // pending_signal_irq_ value
  std::unique_ptr<Task> tasks_[kMaxTasks];
  std::unique_ptr<Fiber> fibers_[kMaxTasks];  // persistent across executions
  Vcpu vcpus_[kMaxVcpus];
  InterruptProgram irqs_[kMaxInterrupts];
  Trace trace_;
  std::vector<Decision> schedule_;
  char tsan_spawn_ = 0;  // sync objects: harness -> tasks, tasks -> harness
  char tsan_join_ = 0;
  jmp_buf main_abandon_jmp_;  // Abandon() from main-context code
  bool main_guard_ = false;
  // Native mode. The GIL: 1 while held, by the main thread whenever it is
  // not inside Run(). Touched only through scheduler_native.cc's
  // uninstrumented atomics, so that ThreadSanitizer sees no edge from it,
  // as it sees none from a fiber switch.
  int gil_ = 1;
  int gil_waiters_ = 0;
  NativeSlot native_[kMaxTasks];
  bool native_live_ = false;  // threads and timer of the execution are up
  int native_timer_stop_ = 0;
  pthread_t native_timer_{};
  uint32_t native_arrived_[kMaxVcpus] = {};       // interrupts the timer raised, per vCPU
  uintptr_t native_vcpu_thread_[kMaxVcpus] = {};  // the thread on each vCPU (the timer's target)
  uint64_t native_epoch_ = 0;                     // executions run in native mode (the timer's seed)
};

// The current context's accessors: on every trace event and most kernel
// helpers, inline. always_inline: with the coverage and UBSan
// instrumentation of these builds clang 14 kept them out of line. In a TSan
// build their loads may land in instrumented callers; the scheduler state
// they read is written only by the scheduler, which the ignorelist keeps
// out of TSan, so no race on it can be reported.
#define RF_CONTEXT_ACCESSOR inline __attribute__((always_inline))
RF_CONTEXT_ACCESSOR int Scheduler::current_vcpu() const { return current_ < 0 ? -1 : tasks_[current_]->vcpu; }
RF_CONTEXT_ACCESSOR const Vcpu& Scheduler::cur_vcpu() const {
  const int c = current_vcpu();
  return c < 0 ? hk_vcpu_ : vcpus_[c];
}
RF_CONTEXT_ACCESSOR Vcpu& Scheduler::cur_vcpu() {
  const int c = current_vcpu();
  return c < 0 ? hk_vcpu_ : vcpus_[c];
}
RF_CONTEXT_ACCESSOR int Scheduler::current_depth() const {
  const Vcpu& v = cur_vcpu();
  return v.nmi_depth > 0 ? 2 : v.hardirq_depth > 0 ? 1 : 0;
}
RF_CONTEXT_ACCESSOR bool Scheduler::in_nmi() const { return cur_vcpu().nmi_depth > 0; }
RF_CONTEXT_ACCESSOR bool Scheduler::in_hardirq() const { return cur_vcpu().hardirq_depth > 0; }
RF_CONTEXT_ACCESSOR bool Scheduler::irqs_disabled() const { return cur_vcpu().irqs_disabled; }

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_SCHEDULER_H_
