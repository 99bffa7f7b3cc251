// SPDX-License-Identifier: MIT
// B3 (docs/kernel-model.md §6): a program run with the scheduler's raw rq lock held
// (sched_ext ops.exit_task) deletes task storage; V4 frees the element with
// call_rcu_tasks_trace(), whose SRCU grace-period start takes a spinlock_t:
// lockdep's "BUG: Invalid wait context". The SRCU fix (raw lock, GP started
// from irq_work) removes it; the deferring variants never call it there.
#include <string>

#include "engine/storage/owners.h"
#include "engine/storage/program.h"
#include "engine/storage/world.h"
#include "gtest/gtest.h"
#include "tests/scenario_harness.h"

namespace reclaimfuzz {
namespace {

using scenario::FindingName;
using scenario::Scenario;
using storage::ProgKind;
using storage::RunBpfProgram;
using storage::u64;
using storage::Variant;

struct B3 {
  long deleted = 1;
  std::string finding;
  sched::RunStatus status = sched::RunStatus::kCompleted;
};

B3 RunB3(Variant variant, const check::OracleOptions& oracles = {}) {
  Scenario sc(variant);
  sc.options().oracles = oracles;
  sc.Reset();
  static storage::bpf_map* map;
  static storage::task_struct* exiting;
  static B3 r;
  r = B3{};
  map = storage::CreateMap({});
  exiting = storage::alloc_task_struct();
  const u64 value[4] = {7, 0, 0, 0};
  EXPECT_EQ(storage::bpf_pid_task_storage_update_elem(map, exiting, value, storage::BPF_NOEXIST), 0);
  sc.Spawn("sched_ext exit_task", 0, [] {
    RunBpfProgram(ProgKind::kRqLocked, [] { r.deleted = storage::bpf_task_storage_delete(map, exiting); });
  });
  r.status = sc.Run();
  r.finding = FindingName();
  return r;
}

TEST(B3, InvalidWaitContextOnV4) {
  const B3 r = RunB3(Variant::kV4);
  ASSERT_EQ(r.finding, "invalid-wait-context") << scenario::Report();
  const std::string report = scenario::Report();
  EXPECT_NE(report.find("srcu_usage.lock"), std::string::npos) << report;
  EXPECT_NE(report.find("rq->__lock"), std::string::npos) << report;
  EXPECT_NE(report.find("variant: v4\n"), std::string::npos) << report;
  EXPECT_EQ(report.substr(report.rfind("finding:")), "finding: invalid-wait-context\n");
}

TEST(B3, CleanOnV4WithTheSrcuFix) {
  const B3 r = RunB3(Variant::kV4SrcuFix);
  EXPECT_EQ(r.status, sched::RunStatus::kCompleted);
  EXPECT_EQ(r.finding, "none") << scenario::Report();
  EXPECT_EQ(r.deleted, 0);
}

TEST(B3, CleanOnAlwaysDeferFixed) {
  const B3 r = RunB3(Variant::kAlwaysDeferFixed);
  EXPECT_EQ(r.status, sched::RunStatus::kCompleted);
  EXPECT_EQ(r.finding, "none") << scenario::Report();
  EXPECT_EQ(r.deleted, 0);
}

// The posted patch fixes B3 (its purpose): only call_rcu() runs under the rq
// lock. Its deleted element still meets B2's early free, so that oracle is
// the one finding left; without it the run is clean.
TEST(B3, AlwaysDeferV1AvoidsB3ButStillFreesEarly) {
  EXPECT_EQ(RunB3(Variant::kAlwaysDeferV1).finding, "early-free") << scenario::Report();
  check::OracleOptions o;
  o.early_free = false;
  const B3 r = RunB3(Variant::kAlwaysDeferV1, o);
  EXPECT_EQ(r.finding, "none") << scenario::Report();
  EXPECT_EQ(r.deleted, 0);
}

}  // namespace
}  // namespace reclaimfuzz
