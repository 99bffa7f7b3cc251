// SPDX-License-Identifier: MIT
// Interrupts are real signals, nested on the interrupted task's stack.
#include <signal.h>

#include "engine/kernel/compiler.h"
#include "engine/kernel/context.h"
#include "engine/kernel/list.h"
#include "engine/sched/choice_scripted.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace reclaimfuzz {
namespace {

using kernel::hlist_head;
using kernel::hlist_node;
using sched::InterruptOption;
using sched::ScriptedChoice;
using testing::Options;
using testing::TestMachine;

bool SignalBlocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, nullptr, &cur);
  return sigismember(&cur, sig) == 1;
}

struct AddState {
  hlist_head h;
  hlist_node old_first, n;
  bool nmi_ran = false;
  bool in_nmi = false;
  bool in_hardirq = false;
  int cpu = -1;
  bool half_done = false;
  bool in_signal_handler = false;
  bool same_task = false;
  int task = -1;
};
AddState g_add;

TEST(Interrupts, NmiMidHlistAddHeadRunsNestedOnSameVcpu) {
  ScriptedChoice choice;
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  g_add = AddState{};
  kernel::hlist_add_head(&g_add.old_first, &g_add.h);  // outside any run: no points
  absl::StatusOr<int> task = m.sched().Spawn("adder", sched::TaskKind::kProcess, 0, [] {
    g_add.task = kernel::current_task_id();
    kernel::hlist_add_head(&g_add.n, &g_add.h);
  });
  ASSERT_TRUE(task.ok());
  absl::StatusOr<int> nmi = m.sched().AddInterrupt(sched::IrqKind::kNmi, 0, "nmi-probe", [] {
    g_add.nmi_ran = true;
    g_add.in_nmi = kernel::in_nmi();
    g_add.in_hardirq = kernel::in_hardirq();
    g_add.cpu = kernel::smp_processor_id();
    g_add.same_task = kernel::current_task_id() == g_add.task;
    // n->next already points at the old first node, but the head does not
    // point at n yet: the interrupted hlist_add_head is half done.
    g_add.half_done = g_add.n.next == &g_add.old_first && g_add.h.first == &g_add.old_first;
    // The kernel blocks a signal while its handler runs: we are in it.
    g_add.in_signal_handler = SignalBlocked(SIGRTMIN + 1);
  });
  ASSERT_TRUE(nmi.ok());
  choice.Add("WRITE_ONCE(h->first)", *task, 1, InterruptOption(*nmi));
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted);
  EXPECT_TRUE(choice.AllFired());
  EXPECT_TRUE(g_add.nmi_ran);
  EXPECT_TRUE(g_add.in_nmi);
  EXPECT_FALSE(g_add.in_hardirq);
  EXPECT_EQ(g_add.cpu, 0);
  EXPECT_TRUE(g_add.same_task);
  EXPECT_TRUE(g_add.half_done);
  EXPECT_TRUE(g_add.in_signal_handler);
  EXPECT_EQ(m.sched().signal_deliveries(), 1u);
  // After the NMI the add completed: head -> n -> old_first.
  EXPECT_EQ(g_add.h.first, &g_add.n);
  EXPECT_EQ(g_add.n.next, &g_add.old_first);
  EXPECT_EQ(g_add.old_first.pprev, &g_add.n.next);
  EXPECT_FALSE(SignalBlocked(SIGRTMIN + 1));
}

struct IrqOffState {
  int dummy = 0;
  bool irq_ran = false;
  bool ran_before_restore = false;
  bool ran_after_restore = false;
  bool handler_saw_irqs_off = false;
};
IrqOffState g_off;

void RunIrqOffProgram(sched::IrqKind kind) {
  ScriptedChoice choice;
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  g_off = IrqOffState{};
  absl::StatusOr<int> task = m.sched().Spawn("irqoff", sched::TaskKind::kProcess, 0, [] {
    kernel::irqflags_t flags;
    local_irq_save(flags);
    for (int i = 0; i < 3; ++i) (void)READ_ONCE(g_off.dummy);
    g_off.ran_before_restore = g_off.irq_ran;
    kernel::local_irq_restore(flags);
    g_off.ran_after_restore = g_off.irq_ran;
  });
  ASSERT_TRUE(task.ok());
  absl::StatusOr<int> irq = m.sched().AddInterrupt(kind, 0, "probe", [] {
    g_off.irq_ran = true;
    g_off.handler_saw_irqs_off = kernel::irqs_disabled();
  });
  ASSERT_TRUE(irq.ok());
  choice.Add("READ_ONCE(g_off.dummy)", *task, 1, InterruptOption(*irq));
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted);
  EXPECT_TRUE(choice.AllFired());
  EXPECT_EQ(m.sched().signal_deliveries(), 1u);
  EXPECT_TRUE(g_off.handler_saw_irqs_off);
}

TEST(Interrupts, HardirqRaisedUnderIrqSaveRunsAtRestoreNotBefore) {
  RunIrqOffProgram(sched::IrqKind::kHardirq);
  EXPECT_FALSE(g_off.ran_before_restore);
  EXPECT_TRUE(g_off.ran_after_restore);
}

TEST(Interrupts, NmiIsNotMaskedByIrqSave) {
  RunIrqOffProgram(sched::IrqKind::kNmi);
  EXPECT_TRUE(g_off.ran_before_restore);
}

TEST(Interrupts, NmiNestsInsideHardirq) {
  ScriptedChoice choice;
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  static int depth_seen = 0;
  static int probe = 0;
  depth_seen = 0;
  absl::StatusOr<int> task = m.sched().Spawn("t", sched::TaskKind::kProcess, 0, [] {
    for (int i = 0; i < 3; ++i) (void)READ_ONCE(probe);
  });
  ASSERT_TRUE(task.ok());
  absl::StatusOr<int> irq = m.sched().AddInterrupt(sched::IrqKind::kHardirq, 0, "irq", [] {
    for (int i = 0; i < 3; ++i) (void)READ_ONCE(probe);
  });
  absl::StatusOr<int> nmi = m.sched().AddInterrupt(sched::IrqKind::kNmi, 0, "nmi", [] {
    if (kernel::in_nmi() && kernel::in_hardirq()) depth_seen = 2;
  });
  ASSERT_TRUE(irq.ok() && nmi.ok());
  choice.Add("READ_ONCE(probe)", *task, 1, InterruptOption(*irq));
  choice.Add("READ_ONCE(probe)", *task, 2, InterruptOption(*nmi));  // second match: inside the hardirq
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted);
  EXPECT_TRUE(choice.AllFired());
  EXPECT_EQ(depth_seen, 2);
#if defined(__has_feature) && __has_feature(thread_sanitizer)
  // TSan defers a signal raised inside a handler: the nested NMI runs directly.
  EXPECT_EQ(m.sched().signal_deliveries(), 1u);
  EXPECT_EQ(m.sched().direct_nested_deliveries(), 1u);
#else
  EXPECT_EQ(m.sched().signal_deliveries(), 2u);
  EXPECT_EQ(m.sched().direct_nested_deliveries(), 0u);
#endif
}

}  // namespace
}  // namespace reclaimfuzz

namespace reclaimfuzz {
namespace {

// Migration: a migratable task that is off-CPU moves to an idle vCPU, unless
// it is inside migrate_disable() (which is what keeps this_cpu_ptr() stable
// for BPF programs).
struct MigrateState {
  int probe = 0;
  int cpu_before = -1;
  int cpu_after = -1;
};
MigrateState g_mig;

void RunMigration(bool disable) {
  sched::ScriptedChoice choice;
  vm::Machine& m = testing::TestMachine();
  ASSERT_TRUE(m.Reset(testing::Options(&choice)).ok());
  g_mig = MigrateState{};
  static bool use_disable;
  use_disable = disable;
  absl::StatusOr<int> a = m.sched().Spawn("migrant", sched::TaskKind::kProcess, 0, [] {
    if (use_disable) kernel::migrate_disable();
    g_mig.cpu_before = kernel::smp_processor_id();
    (void)READ_ONCE(g_mig.probe);  // preempted here by B
    g_mig.cpu_after = kernel::smp_processor_id();
    if (use_disable) kernel::migrate_enable();
  });
  absl::StatusOr<int> b = m.sched().Spawn("preemptor", sched::TaskKind::kProcess, 0, [] {
    for (int i = 0; i < 3; ++i) (void)READ_ONCE(g_mig.probe);
  });
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(m.sched().SetMigratable(*a, true).ok());
  choice.Add("READ_ONCE(g_mig.probe)", *a, 1, sched::RunOption(*b));
  if (!disable) choice.Add("READ_ONCE(g_mig.probe)", *b, 1, sched::RunOption(*a, /*vcpu=*/1));
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted);
  EXPECT_TRUE(choice.AllFired());
  EXPECT_EQ(g_mig.cpu_before, 0);
}

TEST(Migration, OffCpuMigratableTaskMovesToIdleVcpu) {
  RunMigration(/*disable=*/false);
  EXPECT_EQ(g_mig.cpu_after, 1);
}

TEST(Migration, MigrateDisableKeepsTaskOnItsVcpu) {
  RunMigration(/*disable=*/true);
  EXPECT_EQ(g_mig.cpu_after, 0);
}

}  // namespace
}  // namespace reclaimfuzz
