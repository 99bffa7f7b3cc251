// SPDX-License-Identifier: MIT
// The sanitizers see the model: ASan reports a stale read of a freed model
// object; TSan reports an unordered access pair between tasks on two vCPUs
// (fibers on one OS thread) and none when a shim lock orders them.
// Each build registers the tests its sanitizer can answer.
#include <cstdlib>

#include "engine/kernel/compiler.h"
#include "engine/kernel/slab.h"
#include "engine/kernel/spinlock.h"
#include "engine/sched/choice_random.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_TEST_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RF_TEST_TSAN 1
#endif
#endif

namespace reclaimfuzz {
namespace {

using testing::Options;
using testing::TestMachine;

struct Obj {
  long field;
};

#ifdef RF_TEST_ASAN
// Reads through a pointer the model freed with kfree_nolock, from a task.
void ReadAfterFreeInTask() {
  sched::RandomChoice choice(1, 1000);
  vm::Machine& m = TestMachine();
  if (!m.Reset(Options(&choice)).ok()) abort();
  if (!m.sched()
           .Spawn("stale-reader", sched::TaskKind::kProcess, 0,
                  [] {
                    auto* o = static_cast<Obj*>(kernel::kmalloc_nolock(sizeof(Obj), 0, kernel::NUMA_NO_NODE, "obj"));
                    o->field = 1;
                    kernel::kfree_nolock(o);
                    volatile long v = o->field;  // stale
                    (void)v;
                  })
           .ok()) {
    abort();
  }
  m.Run();
  exit(0);
}

TEST(SanitizerDeathTest, AsanReportsReadOfKfreeNolockedObject) {
  EXPECT_DEATH(ReadAfterFreeInTask(), "heap-use-after-free");
}

TEST(SanitizerDeathTest, AsanReportsDoubleFreeAsFinding) {
  // The slab registry catches the second free before the allocator does.
  sched::RandomChoice choice(1, 1000);
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  ASSERT_TRUE(m.sched()
                  .Spawn("t", sched::TaskKind::kProcess, 0,
                         [] {
                           void* p = kernel::kzalloc(16, kernel::GFP_ATOMIC, "obj");
                           kernel::kfree(p);
                           kernel::kfree(p);
                         })
                  .ok());
  EXPECT_EQ(m.Run(), sched::RunStatus::kAbandoned);
  EXPECT_EQ(testing::FindingName(), "double-free");
}
#endif  // RF_TEST_ASAN

#ifdef RF_TEST_TSAN
struct Shared {
  long plain = 0;
  kernel::raw_spinlock_t lock;
};
Shared g_shared;

// Two tasks on two vCPUs each do plain read-modify-writes of one field,
// optionally under the shim spinlock; exits 0 (TSan turns it into 66 on a
// report).
void PlainAccesses(bool locked) {
  setenv("TSAN_OPTIONS", "halt_on_error=1:exitcode=66", 1);
  sched::RandomChoice choice(3, 3);
  vm::Machine& m = TestMachine();
  if (!m.Reset(Options(&choice)).ok()) abort();
  kernel::raw_spin_lock_init(&g_shared.lock, "shared.lock");
  for (int cpu = 0; cpu < 2; ++cpu) {
    if (!m.sched()
             .Spawn("rmw", sched::TaskKind::kProcess, cpu,
                    [locked] {
                      for (int i = 0; i < 10; ++i) {
                        if (locked) kernel::raw_spin_lock(&g_shared.lock);
                        g_shared.plain = g_shared.plain + 1;  // unmarked access
                        if (locked) kernel::raw_spin_unlock(&g_shared.lock);
                      }
                    })
             .ok()) {
      abort();
    }
  }
  m.Run();
  exit(0);
}

TEST(SanitizerDeathTest, TsanReportsRaceBetweenTasksOnTwoVcpus) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("TSAN_OPTIONS", "halt_on_error=1:exitcode=66", 1);
  EXPECT_EXIT(PlainAccesses(false), ::testing::ExitedWithCode(66), "WARNING: ThreadSanitizer: data race");
}

TEST(SanitizerDeathTest, TsanReportsNothingUnderShimSpinlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("TSAN_OPTIONS", "halt_on_error=1:exitcode=66", 1);
  EXPECT_EXIT(PlainAccesses(true), ::testing::ExitedWithCode(0), "");
}

// A task blocked in WaitFor() until another publishes data: the waker
// writes a plain field, then sets a flag; the waiter reads the field once
// woken. The predicate's load of the flag is the only edge between them
// (fiber switches carry none), and it orders them only if the waiter itself
// makes it, after it wakes: with an acquire load it does; with a relaxed
// one TSan must report the pair. Exits 0, 3 if the waiter never blocked
// and re-read the flag (the test would show nothing).
struct Handoff {
  long data = 0;
  bool flag = false;
  int order = __ATOMIC_ACQUIRE;
  int waiter_evals = 0;  // evaluations in the waiter's own context
};
Handoff g_handoff;

bool HandoffReady(void* arg) {
  Handoff* h = static_cast<Handoff*>(arg);
  if (sched::Scheduler::Current()->current_task() >= 0) ++h->waiter_evals;  // only the waiter writes it
  return h->order == __ATOMIC_ACQUIRE ? __atomic_load_n(&h->flag, __ATOMIC_ACQUIRE)
                                      : __atomic_load_n(&h->flag, __ATOMIC_RELAXED);
}

void WaitForHandoff(int order) {
  sched::RandomChoice choice(3, 3);
  vm::Machine& m = TestMachine();
  if (!m.Reset(Options(&choice)).ok()) abort();
  g_handoff = Handoff{};
  g_handoff.order = order;
  static long seen = -1;
  if (!m.sched()
           .Spawn("waiter", sched::TaskKind::kProcess, 0,
                  [] {
                    if (!sched::Scheduler::Current()->WaitFor(&HandoffReady, &g_handoff, "handoff")) abort();
                    seen = g_handoff.data;
                  })
           .ok() ||
      !m.sched()
           .Spawn("waker", sched::TaskKind::kProcess, 1,
                  [] {
                    for (int i = 0; i < 4; ++i) kernel::preemption_point(sched::PointKind::kAccess, "before");
                    g_handoff.data = 42;  // unmarked access
                    __atomic_store_n(&g_handoff.flag, true, __ATOMIC_RELEASE);
                  })
           .ok()) {
    abort();
  }
  if (m.Run() != sched::RunStatus::kCompleted || seen != 42) abort();
  exit(g_handoff.waiter_evals >= 2 ? 0 : 3);
}

TEST(SanitizerDeathTest, TsanSeesAWokenWaiterOrderedAfterItsWaker) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("TSAN_OPTIONS", "halt_on_error=1:exitcode=66", 1);
  EXPECT_EXIT(WaitForHandoff(__ATOMIC_ACQUIRE), ::testing::ExitedWithCode(0), "");
}

TEST(SanitizerDeathTest, TsanReportsAWaiterWhosePredicateOrdersNothing) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("TSAN_OPTIONS", "halt_on_error=1:exitcode=66", 1);
  EXPECT_EXIT(WaitForHandoff(__ATOMIC_RELAXED), ::testing::ExitedWithCode(66), "WARNING: ThreadSanitizer: data race");
}
#endif  // RF_TEST_TSAN

// Both builds: the registry names the sites of a freed object.
TEST(Slab, RegistryKeepsAllocationAndFreeSites) {
  sched::RandomChoice choice(1, 1000);
  vm::Machine& m = TestMachine();
  ASSERT_TRUE(m.Reset(Options(&choice)).ok());
  static int64_t id = -1;
  ASSERT_TRUE(m.sched()
                  .Spawn("t", sched::TaskKind::kProcess, 0,
                         [] {
                           void* p = kernel::kmalloc_nolock(32, 0, kernel::NUMA_NO_NODE, "selem");
                           id = kernel::slab::IdOf(p);
                           kernel::kfree_nolock(p);
                         })
                  .ok());
  ASSERT_EQ(m.Run(), sched::RunStatus::kCompleted);
  const std::string d = kernel::slab::Describe(id);
  EXPECT_NE(d.find("selem #0"), std::string::npos) << d;
  EXPECT_NE(d.find("allocated by operator()"), std::string::npos) << d;
  EXPECT_NE(d.find("freed by operator()"), std::string::npos) << d;
  EXPECT_TRUE(kernel::slab::LiveIds().empty());
}

}  // namespace
}  // namespace reclaimfuzz
