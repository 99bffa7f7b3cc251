// SPDX-License-Identifier: MIT
// Litmus tests of the two RCU domains.
#include "engine/rcu/rcu.h"

#include "engine/kernel/compiler.h"
#include "engine/kernel/context.h"
#include "engine/sched/choice_random.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace reclaimfuzz {
namespace {

using testing::Options;
using testing::TestMachine;

constexpr int kSeeds = 200;

// Sets a flag with no preemption point in between: "exited" must become
// true in the same step as the unlock, or a GP could legitimately end in
// the gap and look like a violation.
void SetNow(int* flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }

struct Flags {
  int reader_inside = 0;
  int reader_exited = 0;
  int writer_done = 0;
  int writer_started_inside = 0;
  int writer_saw_exited = 0;
  int cb_violation = 0;
  int callbacks = 0;
  kernel::rcu_head heads[3];
};
Flags g;

vm::Machine& Start(sched::ChoiceSource* choice, bool implies = true) {
  vm::Machine& m = TestMachine();
  vm::MachineOptions o = Options(choice);
  o.rcu.trace_implies_rcu_gp = implies;
  EXPECT_TRUE(m.Reset(o).ok());
  g = Flags{};
  return m;
}

TEST(Rcu, RegularGpCompletesWhileSleepingTraceReaderHoldsPointer) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    sched::RandomChoice choice(seed, 4);
    vm::Machine& m = Start(&choice);
    ASSERT_TRUE(m.sched()
                    .Spawn("sleepable", sched::TaskKind::kProcess, 0,
                           [] {
                             kernel::rcu_read_lock_trace();
                             WRITE_ONCE(g.reader_inside, 1);
                             // Holds its pointer across sleeps until the writer's
                             // regular GP is over: if that GP waited for this trace
                             // reader, the run would hang.
                             while (!READ_ONCE(g.writer_done)) kernel::msleep_model("page fault");
                             kernel::rcu_read_unlock_trace();
                           })
                    .ok());
    ASSERT_TRUE(m.sched()
                    .Spawn("writer", sched::TaskKind::kProcess, 1,
                           [] {
                             while (!READ_ONCE(g.reader_inside)) kernel::msleep_model("wait");
                             kernel::synchronize_rcu();
                             WRITE_ONCE(g.writer_done, 1);
                           })
                    .ok());
    ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted) << "seed " << seed << ": " << testing::FindingName();
    EXPECT_EQ(rcu::CompletedGps(rcu::Domain::kRcu), 1u);
  }
}

void TraceGpScenario(uint64_t seed, bool implies, bool regular_reader) {
  sched::RandomChoice choice(seed, 3);
  vm::Machine& m = Start(&choice, implies);
  ASSERT_TRUE(m.sched()
                  .Spawn("reader", sched::TaskKind::kProcess, 0,
                         [regular_reader] {
                           if (regular_reader) {
                             kernel::rcu_read_lock();
                           } else {
                             kernel::rcu_read_lock_trace();
                           }
                           WRITE_ONCE(g.reader_inside, 1);
                           for (int i = 0; i < 6; ++i) {
                             if (regular_reader) {
                               (void)READ_ONCE(g.writer_done);
                             } else {
                               kernel::msleep_model("page fault");
                             }
                           }
                           if (regular_reader) {
                             kernel::rcu_read_unlock();
                           } else {
                             kernel::rcu_read_unlock_trace();
                           }
                           SetNow(&g.reader_exited);
                         })
                  .ok());
  ASSERT_TRUE(m.sched()
                  .Spawn("writer", sched::TaskKind::kProcess, 1,
                         [] {
                           const bool inside = READ_ONCE(g.reader_inside) && !READ_ONCE(g.reader_exited);
                           kernel::synchronize_rcu_tasks_trace();
                           WRITE_ONCE(g.writer_started_inside, inside);
                           WRITE_ONCE(g.writer_saw_exited, READ_ONCE(g.reader_exited));
                         })
                  .ok());
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted) << testing::FindingName();
}

TEST(Rcu, TraceGpWaitsForSleepingTraceReader) {
  int started_inside = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    TraceGpScenario(seed, /*implies=*/true, /*regular_reader=*/false);
    if (g.writer_started_inside) {
      ++started_inside;
      ASSERT_TRUE(g.writer_saw_exited) << "seed " << seed << ": trace GP ended inside a reader";
    }
  }
  EXPECT_GT(started_inside, 0) << "no seed started the GP inside the reader";
}

TEST(Rcu, TraceGpImpliesRegularGpWhenSet) {
  int started_inside = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    TraceGpScenario(seed, /*implies=*/true, /*regular_reader=*/true);
    if (g.writer_started_inside) {
      ++started_inside;
      ASSERT_TRUE(g.writer_saw_exited) << "seed " << seed;
    }
  }
  EXPECT_GT(started_inside, 0);
}

TEST(Rcu, TraceGpDoesNotWaitForRegularReadersWhenImpliesIsOff) {
  int early = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    TraceGpScenario(seed, /*implies=*/false, /*regular_reader=*/true);
    if (g.writer_started_inside && !g.writer_saw_exited) ++early;
  }
  EXPECT_GT(early, 0) << "the setting made no difference";
}

TEST(Rcu, CallbacksNeverRunBeforeTheirGracePeriod) {
  int inside = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    sched::RandomChoice choice(seed, 3);
    vm::Machine& m = Start(&choice);
    ASSERT_TRUE(m.sched()
                    .Spawn("reader", sched::TaskKind::kProcess, 0,
                           [] {
                             kernel::rcu_read_lock();
                             WRITE_ONCE(g.reader_inside, 1);
                             for (int i = 0; i < 6; ++i) (void)READ_ONCE(g.callbacks);
                             kernel::rcu_read_unlock();
                             SetNow(&g.reader_exited);
                           })
                    .ok());
    ASSERT_TRUE(m.sched()
                    .Spawn("updater", sched::TaskKind::kProcess, 1,
                           [] {
                             const bool was_inside = READ_ONCE(g.reader_inside) && !READ_ONCE(g.reader_exited);
                             WRITE_ONCE(g.writer_started_inside, was_inside);
                             kernel::call_rcu(&g.heads[0], [](kernel::rcu_head*) {
                               if (READ_ONCE(g.writer_started_inside) && !READ_ONCE(g.reader_exited)) {
                                 WRITE_ONCE(g.cb_violation, 1);
                               }
                               WRITE_ONCE(g.callbacks, 1);
                             });
                           })
                    .ok());
    ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted);
    EXPECT_EQ(g.callbacks, 1);
    ASSERT_EQ(g.cb_violation, 0) << "seed " << seed;
    inside += g.writer_started_inside;
  }
  EXPECT_GT(inside, 0);
}

TEST(Rcu, BarrierWaitsForQueuedCallbacks) {
  for (rcu::Domain d : {rcu::Domain::kRcu, rcu::Domain::kTasksTrace}) {
    for (uint64_t seed = 0; seed < 50; ++seed) {
      sched::RandomChoice choice(seed, 3);
      vm::Machine& m = Start(&choice);
      static rcu::Domain domain;
      static int after_barrier;
      domain = d;
      after_barrier = -1;
      ASSERT_TRUE(m.sched()
                      .Spawn("updater", sched::TaskKind::kProcess, 0,
                             [] {
                               for (auto& h : g.heads) {
                                 auto cb = [](kernel::rcu_head*) {
                                   WRITE_ONCE(g.callbacks, READ_ONCE(g.callbacks) + 1);
                                 };
                                 if (domain == rcu::Domain::kRcu) {
                                   kernel::call_rcu(&h, cb);
                                 } else {
                                   kernel::call_rcu_tasks_trace(&h, cb);
                                 }
                               }
                               if (domain == rcu::Domain::kRcu) {
                                 kernel::rcu_barrier();
                               } else {
                                 kernel::rcu_barrier_tasks_trace();
                               }
                               after_barrier = READ_ONCE(g.callbacks);
                             })
                      .ok());
      ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted);
      EXPECT_EQ(after_barrier, 3) << rcu::DomainName(d) << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace reclaimfuzz
