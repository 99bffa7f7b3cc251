// SPDX-License-Identifier: MIT
// The finding value: its JSON form, its names and keys.
#include "fuzz/finding.h"

#include "gtest/gtest.h"

namespace reclaimfuzz::fuzz {
namespace {

Execution Sample() {
  Execution e;
  e.variant = "linux-6.12";
  e.settings = "preemption voluntary";
  e.program_text = "vcpus 2\n";
  e.finding.name = "reader-saw-freed";
  e.finding.variant = "linux-6.12";
  e.finding.where = "freed by drain_mem_cache";
  e.finding.function = "drain_mem_cache";
  e.finding.op = "release map m1";
  e.finding.step = 88;
  e.finding.task = "kworker/1";
  e.finding.vcpu = 1;
  e.finding.detail = "quote \" and </script> and a newline\n";
  FindingObject o;
  o.id = 35;
  o.type = "bpf_local_storage";
  o.size = 264;
  o.allocator = "kzalloc";
  o.alloc = Site{"prefill_mem_cache", 0, "", 0};
  o.freed = true;
  o.free = Site{"drain_mem_cache", 88, "kworker/1", 0};
  e.finding.object = o;
  e.status = sched::RunStatus::kAbandoned;
  e.steps = 88;
  e.trace_hash = 0xdeadbeefcafef00dull;
  e.decisions = 3;
  e.num_vcpus = 2;
  e.task_names = {"T0", "T1", "kworker/1"};
  e.op_names = {"get m1 o0 create -> r0", "release map m1"};
  e.events.push_back({12, 35, "bpf_mem_cache_alloc", "bpf_local_storage_update", sched::EventKind::kNote, 0, 0, 1, 0});
  e.events.push_back({88, 35, "reader-saw-freed", "drain_mem_cache", sched::EventKind::kNote, 2, -1, 1, 0});
  e.total_events = 400;
  return e;
}

TEST(Finding, JsonRoundTripsEveryField) {
  const Execution e = Sample();
  absl::StatusOr<Execution> back = ExecutionFromJson(ExecutionToJson(e));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, e);
}

TEST(Finding, BadJsonIsAnError) {
  EXPECT_FALSE(ExecutionFromJson("").ok());
  EXPECT_FALSE(ExecutionFromJson("[1,2]").ok());
  EXPECT_FALSE(ExecutionFromJson(R"({"events": [[1, 2]]})").ok());
  EXPECT_FALSE(ExecutionFromJson(R"({"events": [[1,0,"","",99,0,0,0,0]]})").ok());  // no such kind
  EXPECT_FALSE(ExecutionFromJson(R"({"steps": "many"})").ok());
}

TEST(Finding, TitleAndKeyNameWhere) {
  Finding f;
  EXPECT_EQ(f.Title(), "none");
  f.name = "use-after-free";
  f.variant = "v4";
  f.where = "in bpf_local_storage_update";
  EXPECT_EQ(f.Title(), "use-after-free in bpf_local_storage_update");
  Finding g = f;
  g.where = "in bpf_selem_unlink";
  EXPECT_NE(f.Key(), g.Key());  // two use-after-frees stay two
  g.name = "reader-saw-freed";
  g.where = "freed by drain_mem_cache";
  EXPECT_EQ(g.Title(), "reader-saw-freed (freed by drain_mem_cache)");
}

TEST(Finding, SanitizerKindsAsFindingNames) {
  EXPECT_EQ(SanitizerFindingName("asan", "heap-use-after-free"), "use-after-free");
  EXPECT_EQ(SanitizerFindingName("asan", "double-free"), "double-free");
  EXPECT_EQ(SanitizerFindingName("asan", "heap-buffer-overflow"), "asan:heap-buffer-overflow");
  EXPECT_EQ(SanitizerFindingName("asan", ""), "asan:crash");
  EXPECT_EQ(SanitizerFindingName("tsan", "data race"), "data-race");
}

// The short timeline of a captured execution names operations and functions.
TEST(Finding, TimelineOfACapturedExecution) {
  const Execution e = Sample();
  const std::string t = e.Timeline(40, /*short_form=*/true);
  EXPECT_NE(t.find("T0 > get m1 o0 create -> r0"), std::string::npos) << t;
  EXPECT_NE(t.find("bpf_local_storage_update: bpf_mem_cache_alloc #35"), std::string::npos) << t;
  EXPECT_NE(t.find("drain_mem_cache: reader-saw-freed #35"), std::string::npos) << t;
}

}  // namespace
}  // namespace reclaimfuzz::fuzz
