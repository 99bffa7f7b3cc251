// SPDX-License-Identifier: MIT
// The scheduler's native-thread mode (Options::native): the stress test a
// kernel developer would otherwise write, kept as the baseline the
// deterministic scheduler is measured against (docs/design.md §3).
//
// Every task runs on a pthread of its own. Model state is consistent only at
// preemption points, so the threads take turns under one lock, the GIL: a
// task holds it from one preemption point to the next, and at a point where
// another thread waits for it, lets it go and calls sched_yield(). Who takes
// it next is up to the OS and the hardware; nothing here chooses. A task runs
// only while it owns its vCPU: it takes the vCPU when the task on it blocked
// or ended, or preempts that task at a preemptible point once it has had the
// vCPU for a quantum (the scheduler tick); a migratable task moves to an idle
// vCPU. Blocked tasks poll their wait condition. Allocations never fail.
//
// A timer thread raises the interrupt programs, one at a time, at
// exponentially distributed intervals: it marks the program arrived on its
// vCPU and sends SIGRTMIN+2 to the thread on that vCPU (the IPI; its handler
// does nothing but cut a sleep short). The program runs, through the same
// hardirq/NMI signals as in the deterministic mode, at that vCPU's next
// preemption point where it may: IRQs on for a hardirq (or held until they
// are), an NMI also inside a hardirq. Between two points the model's state
// is mid-update, which is why a point is the only place the deterministic
// scheduler interrupts too.
//
// ThreadSanitizer sees none of this as synchronization: the GIL and every
// flag threads share here are atomics in uninstrumented functions
// (RF_NATIVE_SYNC), so the accesses of two tasks to model memory are ordered
// for TSan only by the kernel primitives they use, as with fibers. Thread
// creation and join do order the harness's set-up and teardown checks, as
// the fiber mode's Acquire/Release pairs do.
//
// Nothing here is deterministic: the same program and seed interleave
// differently on every run. A finding is real, but replays only by luck.
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/sched/prng.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

namespace reclaimfuzz::sched {
namespace {

// Atomics ThreadSanitizer must not see (an edge from them would hide the
// races the model's own synchronization leaves open). noinline: so that no
// caller's instrumentation reaches into them.
#define RF_NATIVE_SYNC __attribute__((disable_sanitizer_instrumentation, noinline))

RF_NATIVE_SYNC bool TryLock(int* gil) {
  int unlocked = 0;
  return __atomic_compare_exchange_n(gil, &unlocked, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
RF_NATIVE_SYNC void Unlock(int* gil) { __atomic_store_n(gil, 0, __ATOMIC_RELEASE); }
RF_NATIVE_SYNC int Load(const int* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
RF_NATIVE_SYNC void Store(int* p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
RF_NATIVE_SYNC void Add(int* p, int v) { __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
RF_NATIVE_SYNC uint32_t Load(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
RF_NATIVE_SYNC void Or(uint32_t* p, uint32_t v) { __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL); }
RF_NATIVE_SYNC void And(uint32_t* p, uint32_t v) { __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL); }
RF_NATIVE_SYNC uintptr_t Load(const uintptr_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
RF_NATIVE_SYNC void Store(uintptr_t* p, uintptr_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// An idle pool thread sleeps on its slot's assignment counter. (A raw
// futex: ThreadSanitizer does not see the system call, so it adds no edge.)
void FutexWait(int* word, int seen) { syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0); }
void FutexWake(int* word) { syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0); }

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void SleepUs(uint64_t us) {
  timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>((us % 1000000) * 1000)};
  nanosleep(&ts, nullptr);  // EINTR (the timer's IPI) just ends it early
}

// The interrupt line's IPI: it only has to interrupt what the thread is
// doing (a sleep, a spin for the GIL).
int IpiSignal() { return SIGRTMIN + 2; }
void IpiHandler(int) {}

void InstallIpiHandler() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = &IpiHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(IpiSignal(), &sa, nullptr);
}

[[noreturn]] void NativeFatal(const char* what, int err) {
  fprintf(stderr, "reclaimfuzz: fatal: native mode: %s: %s\n", what, strerror(err));
  abort();
}

// The slot of the task this thread runs (nullptr on the main thread).
thread_local void* t_slot = nullptr;

// Takes the GIL, spinning a little and then yielding the CPU.
void GilLock(int* gil, int* waiters) {
  if (TryLock(gil)) return;
  Add(waiters, 1);
  for (int i = 0; !TryLock(gil); ++i) {
    if (i < 32) {
      CpuRelax();
    } else {
      sched_yield();
    }
  }
  Add(waiters, -1);
}

}  // namespace

// Hands task `id` to its slot's thread (created the first time).
void Scheduler::NativeStart(int id) {
  InstallIpiHandler();
  NativeSlot& slot = native_[id];
  slot.sched = this;
  slot.id = id;
  slot.parked_preemptible = false;
  slot.on_vcpu_since_ns = 0;
  slot.started = true;
  Store(&slot.busy, 1);
  if (!slot.thread_up) {
    Store(&slot.alive, 1);
    pthread_t thread;
    if (int err = pthread_create(&thread, nullptr, &Scheduler::NativeThreadMain, &slot); err != 0) {
      NativeFatal("pthread_create", err);
    }
    pthread_detach(thread);
    slot.thread_up = true;
  }
  Add(&slot.gen, 1);
  FutexWake(&slot.gen);
}

void* Scheduler::NativeThreadMain(void* arg) {
  NativeSlot* slot = static_cast<NativeSlot*>(arg);
  t_slot = slot;
  for (int seen = 0;;) {
    int gen;
    while ((gen = Load(&slot->gen)) == seen && Load(&slot->quit) == 0) FutexWait(&slot->gen, seen);
    if (Load(&slot->quit) != 0) break;
    seen = gen;
    slot->sched->NativeServe(slot);
    Store(&slot->busy, 0);
  }
  Store(&slot->alive, 0);
  return nullptr;
}

// One assignment: the slot's task of this execution, on this thread.
void Scheduler::NativeServe(NativeSlot* slot) {
  SetCurrent(this);
  if (setjmp(slot->exit) == 0) {
    Task& t = *tasks_[slot->id];
    if (t.state == TaskState::kBlocked) {
      // A machine thread: its body starts once its work condition holds.
      GilLock(&gil_, &gil_waiters_);
      current_ = slot->id;
      if (NativeBlock(t)) TaskEntry(&t);
    } else {
      NativeResume(slot->id);
      TaskEntry(&t);
    }
  } else {
    // Left by longjmp, perhaps from inside an interrupt handler, whose
    // signal is then still blocked on this thread: the next task it serves
    // must be interruptible again.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGRTMIN + 1);
    sigaddset(&set, IpiSignal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
  // Here with the GIL: the body returned, or NativeExit() left it.
  NativeLeave(slot->id);
}

// From the destructor: the pool's threads return.
void Scheduler::NativeStopThreads() {
  for (NativeSlot& slot : native_) {
    if (!slot.thread_up) continue;
    Store(&slot.quit, 1);
    Add(&slot.gen, 1);
    FutexWake(&slot.gen);
    while (Load(&slot.alive) != 0) sched_yield();
    slot.thread_up = false;
  }
}

void Scheduler::NativeExit() {
  NativeSlot* slot = static_cast<NativeSlot*>(t_slot);
  if (slot == nullptr) {
    fprintf(stderr, "reclaimfuzz: fatal: native mode: a task left from outside its thread\n");
    abort();
  }
  longjmp(slot->exit, 1);
}

void Scheduler::NativeLeave(int me) {
  (void)me;
  current_ = -1;
  tsan::Release(&tsan_join_);  // the harness may read what tasks did, after Run()
  Unlock(&gil_);
}

// With the GIL: whether task `me` may run now, taking its vCPU if so.
bool Scheduler::NativeCanRun(int me) {
  Task& t = *tasks_[me];
  if (t.vcpu < 0) return true;
  const int cur = vcpus_[t.vcpu].curr;
  if (cur == me) return true;
  bool take = cur < 0 || tasks_[cur]->state != TaskState::kRunnable;
  if (!take) {
    const NativeSlot& c = native_[cur];
    take = c.parked_preemptible && NowNs() - c.on_vcpu_since_ns >= uint64_t{options_.native.quantum_us} * 1000;
  }
  int to = t.vcpu;
  if (!take && t.migratable && t.k.migrate_disable == 0) {
    to = IdleVcpu(t.vcpu);
    take = to >= 0;
  }
  if (!take) return false;
  TakeVcpu(me, to);
  native_[me].on_vcpu_since_ns = NowNs();
  Store(&native_vcpu_thread_[t.vcpu], static_cast<uintptr_t>(pthread_self()));
  return true;
}

// Without the GIL: takes it back for task `me`, then waits for its vCPU.
// Leaves the execution instead when it ended (a finding, the budget) or
// is being torn down.
void Scheduler::NativeResume(int me) {
  for (;;) {
    GilLock(&gil_, &gil_waiters_);
    current_ = me;
    if (abandoned_ || budget_hit_ || shutting_down_) NativeExit();
    if (NativeCanRun(me)) return;
    NativeLeave(me);
    sched_yield();
  }
}

// With the GIL, `t` marked blocked on its wait condition: polls it until it
// holds (true, the vCPU taken), or the execution is torn down while `t`, a
// machine thread, waits for work (false).
bool Scheduler::NativeBlock(Task& t) {
  const int me = t.id;
  const bool idle = t.service && t.wait_pred == t.idle_pred;
  for (int polls = 0;; ++polls) {
    if (shutting_down_ || t.shutdown) {
      if (idle) return false;
      NativeExit();
    }
    if (abandoned_ || budget_hit_) NativeExit();
    if (t.wait_pred(t.wait_arg)) break;
    NativeLeave(me);
    if (polls < 8) {
      sched_yield();
    } else {
      SleepUs(polls < 16 ? 10 : 50);
    }
    GilLock(&gil_, &gil_waiters_);
    current_ = me;
  }
  Wake(me);
  if (!NativeCanRun(me)) {
    NativeLeave(me);
    NativeResume(me);
  }
  return true;
}

void Scheduler::NativeYield() {
  const int me = current_;
  NativeLeave(me);
  sched_yield();
  NativeResume(me);
}

// Interrupt programs the timer raised for this vCPU, where they may run.
void Scheduler::NativeDeliverArrived(int depth) {
  const int c = current_vcpu();
  if (c < 0 || depth >= 2) return;
  uint32_t bits = Load(&native_arrived_[c]);
  while (bits != 0) {
    const int irq = __builtin_ctz(bits);
    bits &= bits - 1;
    if (depth == 1 && irqs_[irq].kind != IrqKind::kNmi) continue;  // only an NMI nests in a hardirq
    And(&native_arrived_[c], ~(1u << irq));
    if (!irqs_[irq].delivered) Deliver(irq);
  }
}

void Scheduler::NativePoint(PointKind kind, int depth) {
  NativeDeliverArrived(depth);
  if (depth > 0) return;  // inside a handler nothing else runs
  MaybeDeliverIrqWork();
  if (Load(&gil_waiters_) == 0) return;
  const int me = current_;
  native_[me].parked_preemptible =
      preemptible() && (options_.preempt != PreemptModel::kVoluntary || kind == PointKind::kResched);
  NativeLeave(me);
  sched_yield();
  NativeResume(me);
  native_[me].parked_preemptible = false;
}

// With the GIL, from the main thread: nothing can make progress any more
// (every task ended or waits for a condition that does not hold).
bool Scheduler::NativeStuck() const {
  for (int i = 0; i < num_tasks_; ++i) {
    const Task& t = *tasks_[i];
    if (t.state == TaskState::kDone) continue;
    if (t.state == TaskState::kBlocked && !t.wait_pred(t.wait_arg)) continue;
    return false;
  }
  return true;
}

void* Scheduler::NativeTimerMain(void* arg) {
  Scheduler* s = static_cast<Scheduler*>(arg);
  const int n = s->num_irqs_;
  int vcpu[kMaxInterrupts];
  for (int i = 0; i < n; ++i) vcpu[i] = s->irqs_[i].vcpu;
  SplitMix64 rng(s->options_.native.seed * 0x9e3779b97f4a7c15ull + s->native_epoch_);
  const double mean_us = s->options_.native.irq_mean_us;
  uint32_t left = n >= 32 ? ~0u : (1u << n) - 1;
  while (left != 0 && Load(&s->native_timer_stop_) == 0) {
    // Exponential interval, slept in short pieces so that a stop is quick.
    const double u = (static_cast<double>(rng.Next() >> 11) + 0.5) / 9007199254740992.0;
    const uint64_t end = NowNs() + static_cast<uint64_t>(-__builtin_log(u) * mean_us * 1000);
    while (NowNs() < end && Load(&s->native_timer_stop_) == 0) SleepUs(20);
    if (Load(&s->native_timer_stop_) != 0) break;
    int pick = static_cast<int>(rng.Below(static_cast<uint64_t>(__builtin_popcount(left))));
    int irq = 0;
    for (uint32_t b = left;; b &= b - 1) {
      if (pick-- == 0) {
        irq = __builtin_ctz(b);
        break;
      }
    }
    left &= ~(1u << irq);
    Or(&s->native_arrived_[vcpu[irq]], 1u << irq);
    const uintptr_t target = Load(&s->native_vcpu_thread_[vcpu[irq]]);
    if (target != 0) pthread_kill(static_cast<pthread_t>(target), IpiSignal());
  }
  return nullptr;
}

RunStatus Scheduler::NativeRun() {
  in_run_ = true;
  tsan::Release(&tsan_spawn_);
  for (int i = 0; i < num_tasks_; ++i) {
    if (!native_[i].started && tasks_[i]->state != TaskState::kDone) NativeStart(i);
  }
  if (!native_live_) {
    native_live_ = true;
    InstallIpiHandler();
    Store(&native_timer_stop_, 0);
    if (int err = pthread_create(&native_timer_, nullptr, &Scheduler::NativeTimerMain, this); err != 0) {
      NativeFatal("pthread_create (timer)", err);
    }
  }
  RunStatus status = RunStatus::kCompleted;
  for (;;) {
    Unlock(&gil_);
    SleepUs(20);
    GilLock(&gil_, &gil_waiters_);
    if (abandoned_) {
      status = RunStatus::kAbandoned;
      break;
    }
    if (budget_hit_) {
      status = RunStatus::kBudget;
      break;
    }
    if (NativeStuck()) {
      status = UserTasksDone() ? RunStatus::kCompleted : RunStatus::kHang;
      break;
    }
  }
  in_run_ = false;
  tsan::Acquire(&tsan_join_);
  return status;
}

// From the main thread, with the GIL, outside Run(): stops the timer, lets
// machine threads waiting for work return, makes every other task leave,
// and waits until every slot's thread is idle again.
void Scheduler::NativeReclaim() {
  Store(&native_timer_stop_, 1);
  pthread_join(native_timer_, nullptr);
  shutting_down_ = true;
  Unlock(&gil_);
  for (NativeSlot& slot : native_) {
    if (!slot.started) continue;
    while (Load(&slot.busy) != 0) sched_yield();
    slot.started = false;
  }
  GilLock(&gil_, &gil_waiters_);
  shutting_down_ = false;
  for (int c = 0; c < kMaxVcpus; ++c) {
    And(&native_arrived_[c], 0);
    Store(&native_vcpu_thread_[c], 0);
  }
  native_live_ = false;
  ++native_epoch_;
  tsan::Acquire(&tsan_join_);
}

}  // namespace reclaimfuzz::sched
