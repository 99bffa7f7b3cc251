// SPDX-License-Identifier: MIT
// ThreadSanitizer sees no synchronization in the native-thread mode
// (engine/sched/scheduler_native.cc): two tasks that write a plain variable
// between preemption points race for TSan, although the mode's lock orders
// them, exactly as two fibers do; two tasks that use an atomic do not. The
// tasks' code is outside engine/sched and outside namespace
// reclaimfuzz::sched, both of which the TSan ignorelist leaves
// uninstrumented. Built in the tsan preset only (tests/CMakeLists.txt).
#include <atomic>

#include "engine/sched/scheduler.h"
#include "gtest/gtest.h"

namespace {
std::atomic<int> g_reports{0};
}  // namespace
// Every report TSan makes in this binary; the races it is meant to make
// must not fail the process.
extern "C" void __tsan_on_report(void*) { g_reports.fetch_add(1); }
extern "C" const char* __tsan_default_options() { return "exitcode=0"; }

namespace native_tsan_test {
namespace {

using reclaimfuzz::sched::Options;
using reclaimfuzz::sched::PointKind;
using reclaimfuzz::sched::RunStatus;
using reclaimfuzz::sched::Scheduler;
using reclaimfuzz::sched::TaskKind;

int g_plain = 0;
std::atomic<int> g_atomic{0};

void PlainWriter() {
  for (int i = 0; i < 100; ++i) {
    ++g_plain;
    Scheduler::Current()->Point(PointKind::kAccess, "plain");
  }
}

void AtomicWriter() {
  for (int i = 0; i < 100; ++i) {
    g_atomic.fetch_add(1);
    Scheduler::Current()->Point(PointKind::kAccess, "atomic");
  }
}

int ReportsOf(void (*writer)()) {
  const int before = g_reports.load();
  Scheduler s;
  Options o;
  o.num_vcpus = 2;
  o.native.enabled = true;
  EXPECT_TRUE(s.Reset(o).ok());
  for (int cpu = 0; cpu < 2; ++cpu) EXPECT_TRUE(s.Spawn("writer", TaskKind::kProcess, cpu, writer).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  s.ReclaimTasks();
  return g_reports.load() - before;
}

TEST(NativeTsan, PlainWritesOfTwoTasksRace) {
  EXPECT_GE(ReportsOf(&PlainWriter), 1);
  EXPECT_EQ(g_plain, 200);
}

TEST(NativeTsan, AtomicWritesOfTwoTasksDoNot) {
  EXPECT_EQ(ReportsOf(&AtomicWriter), 0);
  EXPECT_EQ(g_atomic.load(), 200);
}

}  // namespace
}  // namespace native_tsan_test
