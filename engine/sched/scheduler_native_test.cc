// SPDX-License-Identifier: MIT
// Unit tests of the scheduler's native-thread mode (scheduler_native.cc):
// tasks on threads of their own, vCPU ownership, blocking, machine
// threads, interrupts from the timer, hang, budget, abandon. What they
// check holds on every interleaving the OS picks. State the tasks share is
// atomic: the GIL orders them, but ThreadSanitizer is not told so.
#include <pthread.h>

#include <atomic>
#include <set>
#include <vector>

#include "engine/sched/scheduler.h"
#include "gtest/gtest.h"

namespace reclaimfuzz::sched {
namespace {

Options Native(int vcpus = 2, uint64_t budget = 200000) {
  Options o;
  o.num_vcpus = vcpus;
  o.step_budget = budget;
  o.native.enabled = true;
  o.native.irq_mean_us = 50;
  return o;
}

bool IsSet(void* arg) { return static_cast<std::atomic<int>*>(arg)->load(std::memory_order_acquire) != 0; }
bool Never(void*) { return false; }

TEST(SchedulerNative, NeedsNoChoiceSource) {
  Scheduler s;
  EXPECT_TRUE(s.Reset(Native()).ok());
  Options fibers = Native();
  fibers.native.enabled = false;
  EXPECT_EQ(s.Reset(fibers).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SchedulerNative, TasksRunOnThreadsOfTheirOwnOnTheirVcpus) {
  Scheduler s;
  ASSERT_TRUE(s.Reset(Native(3)).ok());
  std::atomic<int> wrong_vcpu{0};
  std::vector<std::atomic<pthread_t>> threads(3);
  for (int cpu = 0; cpu < 3; ++cpu) {
    ASSERT_TRUE(s.Spawn("t", TaskKind::kProcess, cpu, [&, cpu] {
                   threads[cpu] = pthread_self();
                   for (int i = 0; i < 200; ++i) {
                     s.Point(PointKind::kAccess, "work");
                     if (s.current_vcpu() != cpu || Scheduler::Current() != &s) wrong_vcpu.fetch_add(1);
                   }
                 }).ok());
  }
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  EXPECT_EQ(wrong_vcpu.load(), 0);
  std::set<pthread_t> distinct;
  for (auto& t : threads) distinct.insert(t.load());
  distinct.insert(pthread_self());
  EXPECT_EQ(distinct.size(), 4u) << "three task threads, none of them the caller's";
  EXPECT_GE(s.step(), 600u);
  s.ReclaimTasks();
}

// With preemption disabled a task keeps its vCPU: the other task of that
// vCPU never runs inside the section, whoever the OS runs.
TEST(SchedulerNative, PreemptDisabledSectionsAreNotPreempted) {
  Scheduler s;
  for (int run = 0; run < 20; ++run) {
    Options o = Native(1);
    o.native.quantum_us = 0;  // preempt at every preemptible point
    ASSERT_TRUE(s.Reset(o).ok());
    std::atomic<int> inside{0}, violations{0}, b_points{0};
    ASSERT_TRUE(s.Spawn("a", TaskKind::kProcess, 0, [&] {
                   for (int k = 0; k < 20; ++k) {
                     ++s.task(s.current_task()).k.preempt_count;
                     inside = 1;
                     for (int i = 0; i < 20; ++i) s.Point(PointKind::kAccess, "in section");
                     inside = 0;
                     --s.task(s.current_task()).k.preempt_count;
                     s.Point(PointKind::kAccess, "out");
                   }
                 }).ok());
    ASSERT_TRUE(s.Spawn("b", TaskKind::kProcess, 0, [&] {
                   for (int i = 0; i < 200; ++i) {
                     if (inside.load() != 0) violations.fetch_add(1);
                     b_points.fetch_add(1);
                     s.Point(PointKind::kAccess, "b");
                   }
                 }).ok());
    ASSERT_EQ(s.Run(), RunStatus::kCompleted);
    EXPECT_EQ(violations.load(), 0) << "run " << run;
    EXPECT_EQ(b_points.load(), 200);
  }
  s.ReclaimTasks();
}

TEST(SchedulerNative, WaitForReturnsOnceAnotherTaskMakesItTrue) {
  Scheduler s;
  ASSERT_TRUE(s.Reset(Native(2)).ok());
  std::atomic<int> flag{0}, order{0}, waiter_saw{0};
  ASSERT_TRUE(s.Spawn("waiter", TaskKind::kProcess, 0, [&] {
                 EXPECT_TRUE(s.WaitFor(&IsSet, &flag, "flag"));
                 waiter_saw = order.fetch_add(1) + 1;
               }).ok());
  ASSERT_TRUE(s.Spawn("setter", TaskKind::kProcess, 1, [&] {
                 for (int i = 0; i < 50; ++i) s.Point(PointKind::kAccess, "before");
                 order.fetch_add(1);
                 flag.store(1, std::memory_order_release);
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  EXPECT_EQ(waiter_saw.load(), 2) << "the waiter went on only after the setter";
  s.ReclaimTasks();
}

TEST(SchedulerNative, AllBlockedIsAHangAndTheThreadsAreReclaimed) {
  Scheduler s;
  ASSERT_TRUE(s.Reset(Native(1)).ok());
  std::atomic<int> after{0};
  ASSERT_TRUE(s.Spawn("stuck", TaskKind::kProcess, 0, [&] {
                 s.WaitFor(&Never, nullptr, "never");
                 after = 1;
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kHang);
  s.ReclaimTasks();  // waits for the thread: it left without running on
  EXPECT_EQ(after.load(), 0);
}

TEST(SchedulerNative, TheBudgetStopsEveryTask) {
  Scheduler s;
  ASSERT_TRUE(s.Reset(Native(2, 5000)).ok());
  for (int cpu = 0; cpu < 2; ++cpu) {
    ASSERT_TRUE(s.Spawn("spin", TaskKind::kProcess, cpu, [&] {
                   for (;;) s.Point(PointKind::kSpin, "forever");
                 }).ok());
  }
  EXPECT_EQ(s.Run(), RunStatus::kBudget);
  EXPECT_STREQ(s.abandon_reason(), "step budget exhausted");
  // The next execution starts clean.
  ASSERT_TRUE(s.Reset(Native(1)).ok());
  ASSERT_TRUE(s.Spawn("t", TaskKind::kProcess, 0, [&] { s.Point(PointKind::kAccess, "x"); }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  s.ReclaimTasks();
}

TEST(SchedulerNative, AbandonEndsTheExecution) {
  Scheduler s;
  ASSERT_TRUE(s.Reset(Native(2)).ok());
  std::atomic<int> after{0};
  ASSERT_TRUE(s.Spawn("finder", TaskKind::kProcess, 0, [&] {
                 s.Point(PointKind::kAccess, "x");
                 s.Abandon("found something");
               }).ok());
  ASSERT_TRUE(s.Spawn("other", TaskKind::kProcess, 1, [&] {
                 for (int i = 0; i < 100000; ++i) s.Point(PointKind::kAccess, "y");
                 after = 1;
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kAbandoned);
  EXPECT_STREQ(s.abandon_reason(), "found something");
  s.ReclaimTasks();
  EXPECT_EQ(after.load(), 0);
}

// A machine thread starts when its work condition holds, runs its loop,
// and returns when the execution is reclaimed; a later Run() phase reuses
// it.
TEST(SchedulerNative, MachineThreadsServeAcrossPhasesAndReturnAtReclaim) {
  Scheduler s;
  ASSERT_TRUE(s.Reset(Native(2)).ok());
  std::atomic<int> work{0}, served{0}, returned{0};
  ASSERT_TRUE(s.SpawnService("kworker", TaskKind::kKworker, 1, &IsSet, &work, [&] {
                 for (;;) {
                   if (!s.WaitFor(&IsSet, &work, "work")) break;
                   s.Point(PointKind::kAccess, "serve");
                   served.fetch_add(1);
                   work = 0;
                 }
                 returned = 1;
               }).ok());
  ASSERT_TRUE(s.Spawn("producer", TaskKind::kProcess, 0, [&] {
                 work.store(1, std::memory_order_release);
                 s.WaitFor(
                     +[](void* a) { return !IsSet(a); }, &work, "served");
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  EXPECT_EQ(served.load(), 1);
  ASSERT_TRUE(s.Spawn("second phase", TaskKind::kProcess, 0, [&] {
                 work.store(1, std::memory_order_release);
                 s.WaitFor(
                     +[](void* a) { return !IsSet(a); }, &work, "served");
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  EXPECT_EQ(served.load(), 2);
  EXPECT_EQ(returned.load(), 0);
  s.ReclaimTasks();
  EXPECT_EQ(returned.load(), 1);
}

// The timer's interrupts arrive and run as handlers on the thread of the
// task on their vCPU, through the interrupt signals; a hardirq waits while
// IRQs are off, an NMI does not.
TEST(SchedulerNative, TimerInterruptsRunNestedOnTheirVcpu) {
  Scheduler s;
  for (int run = 0; run < 5; ++run) {
    ASSERT_TRUE(s.Reset(Native(2)).ok());
    std::atomic<pthread_t> task_thread{};
    std::atomic<int> hardirq_ok{0}, nmi_ok{0}, ran{0}, irqs_off_violation{0};
    std::atomic<int> irqs_off{0};
    ASSERT_TRUE(s.Spawn("t", TaskKind::kProcess, 1, [&] {
                   task_thread = pthread_self();
                   // Points until both programs ran (the budget bounds it).
                   for (uint64_t i = 0; ran.load() < 2; ++i) {
                     const bool off = (i / 64) % 2 == 1;
                     s.vcpu_state().irqs_disabled = off;
                     irqs_off = off;
                     s.Point(PointKind::kAccess, "work");
                     if (!off) continue;
                     if ((i + 1) % 64 == 0) {
                       s.vcpu_state().irqs_disabled = false;
                       irqs_off = 0;
                       s.OnIrqsEnabled();
                     }
                   }
                   s.vcpu_state().irqs_disabled = false;
                 }).ok());
    ASSERT_TRUE(s.AddInterrupt(IrqKind::kHardirq, 1, "irq", [&] {
                   if (s.in_hardirq() && pthread_self() == task_thread.load()) hardirq_ok = 1;
                   if (irqs_off.load() != 0) irqs_off_violation = 1;
                   ran.fetch_add(1);
                 }).ok());
    ASSERT_TRUE(s.AddInterrupt(IrqKind::kNmi, 1, "nmi", [&] {
                   if (s.in_nmi() && pthread_self() == task_thread.load()) nmi_ok = 1;
                   ran.fetch_add(1);
                 }).ok());
    ASSERT_EQ(s.Run(), RunStatus::kCompleted) << s.abandon_reason();
    EXPECT_EQ(hardirq_ok.load(), 1);
    EXPECT_EQ(nmi_ok.load(), 1);
    EXPECT_EQ(irqs_off_violation.load(), 0);
    EXPECT_EQ(s.signal_deliveries(), 2u);
  }
  s.ReclaimTasks();
}

// A finding inside a handler leaves it by longjmp, with its signal still
// blocked on the thread; the slot's thread serves the next execution with
// interrupts deliverable again.
TEST(SchedulerNative, AFindingInsideAHandlerLeavesTheThreadInterruptible) {
  Scheduler s;
  for (int run = 0; run < 3; ++run) {
    ASSERT_TRUE(s.Reset(Native(1)).ok());
    std::atomic<int> ran{0};
    ASSERT_TRUE(s.Spawn("t", TaskKind::kProcess, 0, [&] {
                   while (ran.load() == 0) s.Point(PointKind::kAccess, "work");
                 }).ok());
    ASSERT_TRUE(s.AddInterrupt(IrqKind::kNmi, 0, "nmi", [&] {
                   ran = 1;
                   s.Abandon("finding in an NMI");
                 }).ok());
    EXPECT_EQ(s.Run(), RunStatus::kAbandoned) << "run " << run;
    EXPECT_STREQ(s.abandon_reason(), "finding in an NMI");
  }
  s.ReclaimTasks();
}

}  // namespace
}  // namespace reclaimfuzz::sched
