// SPDX-License-Identifier: MIT
// rqspinlock and lockdep-lite on the virtual machine.
#include <atomic>
#include <cerrno>

#include "absl/time/clock.h"
#include "engine/kernel/compiler.h"
#include "engine/kernel/context.h"
#include "engine/kernel/rqspinlock.h"
#include "engine/kernel/spinlock.h"
#include "engine/rcu/rcu.h"
#include "engine/sched/choice_random.h"
#include "engine/sched/choice_scripted.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace reclaimfuzz {
namespace {

using kernel::rqspinlock_t;
using sched::InterruptOption;
using sched::RunOption;
using sched::ScriptedChoice;
using testing::FindingName;
using testing::Options;
using testing::TestMachine;

struct Locks {
  rqspinlock_t l1, l2;
  kernel::raw_spinlock_t raw;
  kernel::spinlock_t sleeping;
  int probe = 0;
  int ret_a = 1, ret_b = 1, ret_nmi = 1;
  kernel::rcu_head head;
};
Locks g;

void InitLocks() {
  g = Locks{};
  kernel::raw_res_spin_lock_init(&g.l1, "L1");
  kernel::raw_res_spin_lock_init(&g.l2, "L2");
  kernel::raw_spin_lock_init(&g.raw, "rq->__lock");
  kernel::spin_lock_init(&g.sleeping, "srcu_usage.lock");
}

TEST(Rqspinlock, AaFromNmiOnSameVcpuIsEdeadlkNotAHang) {
  ScriptedChoice choice;
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  InitLocks();
  absl::StatusOr<int> task = m.sched().Spawn("holder", sched::TaskKind::kProcess, 0, [] {
    kernel::irqflags_t flags;
    g.ret_a = raw_res_spin_lock_irqsave(&g.l1, flags);
    for (int i = 0; i < 3; ++i) (void)READ_ONCE(g.probe);
    kernel::raw_res_spin_unlock_irqrestore(&g.l1, flags);
  });
  absl::StatusOr<int> nmi = m.sched().AddInterrupt(sched::IrqKind::kNmi, 0, "nmi", [] {
    kernel::irqflags_t flags;
    g.ret_nmi = raw_res_spin_lock_irqsave(&g.l1, flags);
    if (g.ret_nmi == 0) kernel::raw_res_spin_unlock_irqrestore(&g.l1, flags);
  });
  ASSERT_TRUE(task.ok() && nmi.ok());
  choice.Add("READ_ONCE(g.probe)", *task, 1, InterruptOption(*nmi));
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted) << FindingName();
  EXPECT_TRUE(choice.AllFired());
  EXPECT_EQ(g.ret_a, 0);
  EXPECT_EQ(g.ret_nmi, -EDEADLK);
}

void SpawnAbba(vm::Machine& m, int* a, int* b) {
  *a = *m.sched().Spawn("A", sched::TaskKind::kProcess, 0, [] {
    kernel::irqflags_t f1, f2;
    if (raw_res_spin_lock_irqsave(&g.l1, f1) != 0) return;
    (void)READ_ONCE(g.probe);
    g.ret_a = raw_res_spin_lock_irqsave(&g.l2, f2);
    if (g.ret_a == 0) kernel::raw_res_spin_unlock_irqrestore(&g.l2, f2);
    kernel::raw_res_spin_unlock_irqrestore(&g.l1, f1);
  });
  *b = *m.sched().Spawn("B", sched::TaskKind::kProcess, 1, [] {
    kernel::irqflags_t f1, f2;
    if (raw_res_spin_lock_irqsave(&g.l2, f2) != 0) return;
    (void)READ_ONCE(g.probe);
    g.ret_b = raw_res_spin_lock_irqsave(&g.l1, f1);
    if (g.ret_b == 0) kernel::raw_res_spin_unlock_irqrestore(&g.l1, f1);
    kernel::raw_res_spin_unlock_irqrestore(&g.l2, f2);
  });
}

TEST(Rqspinlock, AbbaBetweenTwoVcpusEndsInEdeadlk) {
  ScriptedChoice choice;
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  InitLocks();
  int a, b;
  SpawnAbba(m, &a, &b);
  // A takes L1, then B takes L2: both then want the other's lock.
  choice.Add("READ_ONCE(g.probe)", a, 1, RunOption(b));
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted) << FindingName();
  EXPECT_TRUE(g.ret_a == -EDEADLK || g.ret_b == -EDEADLK) << g.ret_a << " " << g.ret_b;
}

TEST(Rqspinlock, AbbaUnderRandomSchedulesAlwaysTerminates) {
  int deadlocks = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    sched::RandomChoice choice(seed, 2);
    vm::Machine& m = TestMachine();
    ASSERT_TRUE(m.Reset(Options(&choice)).ok());
    InitLocks();
    int a, b;
    SpawnAbba(m, &a, &b);
    ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted) << "seed " << seed << " " << FindingName();
    for (int r : {g.ret_a, g.ret_b}) {
      EXPECT_TRUE(r == 0 || r == 1 || r == -EDEADLK || r == -ETIMEDOUT) << r;
      deadlocks += r == -EDEADLK || r == -ETIMEDOUT;
    }
  }
  EXPECT_GT(deadlocks, 0);
}

// Keeps the current task running at spin points: a waiter that never lets
// the holder run must time out.
class StubbornChoice : public sched::ChoiceSource {
 public:
  bool Consult(const sched::PointHeader&) override { return false; }
  size_t Choose(const sched::PointView& v) override {
    if (v.header.kind == sched::PointKind::kSpin) return 0;
    return sched::DefaultChoice(v);
  }
  std::string Describe() const override { return "stubborn"; }
};

TEST(Rqspinlock, WaiterTimesOutWithEtimedout) {
  StubbornChoice stubborn;
  ScriptedChoice choice(ScriptedChoice::Config{.fallback = &stubborn});
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  InitLocks();
  absl::StatusOr<int> holder = m.sched().Spawn("holder", sched::TaskKind::kProcess, 0, [] {
    kernel::irqflags_t f;
    if (raw_res_spin_lock_irqsave(&g.l1, f) != 0) return;
    (void)READ_ONCE(g.probe);
    kernel::raw_res_spin_unlock_irqrestore(&g.l1, f);
  });
  absl::StatusOr<int> waiter = m.sched().Spawn("waiter", sched::TaskKind::kProcess, 1, [] {
    kernel::irqflags_t f;
    g.ret_b = raw_res_spin_lock_irqsave(&g.l1, f);
    if (g.ret_b == 0) kernel::raw_res_spin_unlock_irqrestore(&g.l1, f);
  });
  ASSERT_TRUE(holder.ok() && waiter.ok());
  choice.Add("READ_ONCE(g.probe)", *holder, 1, RunOption(*waiter));
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted) << FindingName();
  EXPECT_EQ(g.ret_b, -ETIMEDOUT);
}

// In the native-thread mode the OS decides how long a holder stalls, so
// the timeout is the kernel's 0.25 s of real time, not a count of spin
// points: a waiter that spun 64 times in a few microseconds while the
// holder's thread waited for a core must not give up
// (docs/findings/destroy-timeout-leak.md, section 3).
TEST(Rqspinlock, InNativeModeTheTimeoutIsTheKernelsQuarterSecond) {
  vm::MachineOptions o = Options(nullptr);
  o.sched.native.enabled = true;
  o.sched.step_budget = uint64_t{1} << 40;  // both spin for 0.25 s
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(o).ok());
  InitLocks();
  static std::atomic<int> locked, waiter_done;
  static std::atomic<int64_t> waited_ns;
  locked = 0;
  waiter_done = 0;
  waited_ns = 0;
  ASSERT_TRUE(m.sched()
                  .Spawn("holder", sched::TaskKind::kProcess, 0,
                         [] {
                           kernel::irqflags_t f;
                           if (raw_res_spin_lock_irqsave(&g.l1, f) != 0) return;
                           locked = 1;
                           // Holds the lock, with IRQs off, until the waiter gave up.
                           while (waiter_done.load() == 0) kernel::preemption_point(sched::PointKind::kSpin, "hold");
                           kernel::raw_res_spin_unlock_irqrestore(&g.l1, f);
                         })
                  .ok());
  ASSERT_TRUE(m.sched()
                  .Spawn("waiter", sched::TaskKind::kProcess, 1,
                         [] {
                           while (locked.load() == 0) kernel::preemption_point(sched::PointKind::kSpin, "wait");
                           const absl::Time start = absl::Now();
                           kernel::irqflags_t f;
                           g.ret_b = raw_res_spin_lock_irqsave(&g.l1, f);
                           waited_ns = absl::ToInt64Nanoseconds(absl::Now() - start);
                           if (g.ret_b == 0) kernel::raw_res_spin_unlock_irqrestore(&g.l1, f);
                           waiter_done = 1;
                         })
                  .ok());
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted) << FindingName();
  m.sched().ReclaimTasks();
  EXPECT_EQ(g.ret_b, -ETIMEDOUT);
  EXPECT_GE(waited_ns.load(), static_cast<int64_t>(kernel::kRqspinlockTimeoutNs));
}

TEST(Rqspinlock, NonLifoUnlockIsLockOrder) {
  sched::RandomChoice choice(1, 1000);
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  InitLocks();
  ASSERT_TRUE(m.sched()
                  .Spawn("t", sched::TaskKind::kProcess, 0,
                         [] {
                           kernel::res_spin_lock(&g.l1);
                           kernel::res_spin_lock(&g.l2);
                           kernel::res_spin_unlock(&g.l1);  // L2 is newer
                         })
                  .ok());
  EXPECT_EQ(m.Run(), sched::RunStatus::kAbandoned);
  EXPECT_EQ(FindingName(), "lock-order");
  EXPECT_NE(std::string(check::LastFinding()->detail).find("LIFO"), std::string::npos);
}

// ---- lockdep-lite ---------------------------------------------------------

std::string RunOne(std::function<void()> body, int vcpu = 0) {
  static sched::RandomChoice* choice = new sched::RandomChoice(7, 1000);
  vm::Machine& m = TestMachine();
  EXPECT_TRUE(m.Reset(Options(choice)).ok());
  InitLocks();
  EXPECT_TRUE(m.sched().Spawn("t", sched::TaskKind::kProcess, vcpu, std::move(body)).ok());
  m.Run();
  return FindingName();
}

TEST(Lockdep, SleepingTypeLockUnderRawLockIsInvalidWaitContext) {
  EXPECT_EQ(RunOne([] {
              kernel::raw_spin_lock(&g.raw);
              kernel::spin_lock(&g.sleeping);
              kernel::spin_unlock(&g.sleeping);
              kernel::raw_spin_unlock(&g.raw);
            }),
            "invalid-wait-context");
  EXPECT_NE(std::string(check::LastFinding()->detail).find("srcu_usage.lock"), std::string::npos);
}

TEST(Lockdep, RawLockUnderSleepingTypeLockIsFine) {
  EXPECT_EQ(RunOne([] {
              kernel::spin_lock(&g.sleeping);
              kernel::raw_spin_lock(&g.raw);
              kernel::raw_spin_unlock(&g.raw);
              kernel::spin_unlock(&g.sleeping);
            }),
            "none");
}

TEST(Lockdep, SleepInsideRegularRcuReaderIsContextViolation) {
  EXPECT_EQ(RunOne([] {
              kernel::rcu_read_lock();
              kernel::msleep_model("page fault");
              kernel::rcu_read_unlock();
            }),
            "context-violation");
}

TEST(Lockdep, SleepInsideTraceReaderIsFine) {
  EXPECT_EQ(RunOne([] {
              kernel::rcu_read_lock_trace();
              kernel::msleep_model("page fault");
              kernel::rcu_read_unlock_trace();
            }),
            "none");
}

TEST(Lockdep, SleepWithPreemptionOffIsContextViolation) {
  EXPECT_EQ(RunOne([] {
              kernel::preempt_disable();
              kernel::msleep_model("mutex_lock");
              kernel::preempt_enable();
            }),
            "context-violation");
}

TEST(Lockdep, UnlockOfLockNotHeldIsReportedClearly) {
  EXPECT_EQ(RunOne([] { kernel::raw_spin_unlock(&g.raw); }), "lock-order");
  EXPECT_NE(std::string(check::LastFinding()->detail).find("does not hold"), std::string::npos);
}

TEST(Lockdep, CallRcuFromNmiIsContextViolation) {
  ScriptedChoice choice;
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  InitLocks();
  absl::StatusOr<int> t = m.sched().Spawn("t", sched::TaskKind::kProcess, 0, [] {
    for (int i = 0; i < 2; ++i) (void)READ_ONCE(g.probe);
  });
  absl::StatusOr<int> nmi = m.sched().AddInterrupt(sched::IrqKind::kNmi, 0, "nmi",
                                                   [] { kernel::call_rcu(&g.head, [](kernel::rcu_head*) {}); });
  ASSERT_TRUE(t.ok() && nmi.ok());
  choice.Add("READ_ONCE(g.probe)", *t, 1, InterruptOption(*nmi));
  EXPECT_EQ(m.Run(), sched::RunStatus::kAbandoned);
  EXPECT_EQ(FindingName(), "context-violation");
  EXPECT_NE(std::string(check::LastFinding()->detail).find("call_rcu"), std::string::npos);
  EXPECT_EQ(check::LastFinding()->depth, 2);
}

}  // namespace
}  // namespace reclaimfuzz
