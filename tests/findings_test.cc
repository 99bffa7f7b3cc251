// SPDX-License-Identifier: MIT
// Findings as values across the engine, the trees and the sanitizers: two
// use-after-frees of one variant stay two, timelines name operations and
// functions, and a sanitizer's finding is a value like an oracle's.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "engine/sched/choice_random.h"
#include "engine/sched/scheduler.h"
#include "fuzz/finding.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "fuzz/sanitizer_report.h"
#include "gtest/gtest.h"

namespace reclaimfuzz {
namespace {

using storage::Variant;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fuzz::Program Load(const std::string& rel) {
  absl::StatusOr<fuzz::Program> p = fuzz::ParseText(Read(std::string(RF_SOURCE_DIR) + "/" + rel));
  EXPECT_TRUE(p.ok()) << rel << ": " << p.status();
  return p.ok() ? *p : fuzz::Program{};
}

fuzz::RunResult RunIt(fuzz::Program& p, Variant v, bool oracles = true) {
  fuzz::AsFuzzTargetsRun(p, v);
  fuzz::RunOptions o;
  o.variant = v;
  o.oracles.reader_saw_freed = oracles;
  o.oracles.early_free = oracles;
  return fuzz::RunProgram(p, o);
}

std::optional<Variant> Tree(const char* name) {
  absl::StatusOr<Variant> v = storage::ParseVariant(name);
  if (!v.ok() || !fuzz::VariantBuilt(*v)) return std::nullopt;
  return *v;
}

// linux-6.12 has two map_free use-after-frees: the element (freed by the
// bpf_mem_alloc drain) and the map struct a sleepable reader of another
// map still reads. One name, two findings.
TEST(Findings, TwoUseAfterFreesOfOneVariantAreTwoFindings) {
  const std::optional<Variant> v = Tree("linux-6.12");
  if (!v) GTEST_SKIP() << "linux-6.12 not built";
  fuzz::Program a = Load("corpus/storage_linux_6_12_fuzz/regression/reader-saw-freed.txt");
  ASSERT_EQ(RunIt(a, *v).finding, "reader-saw-freed");
  const fuzz::Finding fa = fuzz::LastFinding(*v);
  fuzz::Program b = Load("corpus/storage_linux_6_12_fuzz/regression/reader-saw-freed-2.txt");
  ASSERT_EQ(RunIt(b, *v).finding, "reader-saw-freed");
  const fuzz::Finding fb = fuzz::LastFinding(*v);
  EXPECT_EQ(fa.where, "freed by drain_mem_cache");
  EXPECT_FALSE(fb.where.empty());
  EXPECT_NE(fa.where, fb.where);
  EXPECT_NE(fa.Key(), fb.Key());
  EXPECT_TRUE(fa.object.has_value() && fa.object->freed);
}

// The short form: at most 40 lines, the operations and the functions.
TEST(Findings, ShortTimelineNamesOperationsAndFunctions) {
  struct Case {
    const char* variant;
    const char* file;
    const char* free_function;
  };
  for (const Case& c :
       {Case{"always-defer-v1", "corpus/storage_always_defer_v1_fuzz/regression/early-free.txt", "bpf_selem_free_rcu"},
        Case{"linux-6.12", "corpus/storage_linux_6_12_fuzz/regression/reader-saw-freed.txt", "drain_mem_cache"}}) {
    const std::optional<Variant> v = Tree(c.variant);
    if (!v) continue;
    fuzz::Program p = Load(c.file);
    const fuzz::RunResult r = RunIt(p, *v);
    ASSERT_NE(r.finding, "none") << c.file;
    const fuzz::Execution e = fuzz::CaptureLastRun(p, r, *v);
    const std::string t = e.Timeline(40, /*short_form=*/true);
    const std::vector<std::string> lines = absl::StrSplit(t, '\n', absl::SkipEmpty());
    EXPECT_LE(lines.size(), 40u) << t;
    EXPECT_NE(t.find(" > "), std::string::npos) << "no operation row:\n" << t;
    EXPECT_NE(t.find(std::string(c.free_function) + ":"), std::string::npos) << t;
    EXPECT_NE(t.find(": " + r.finding), std::string::npos) << t;
    // The full form names functions too.
    EXPECT_NE(e.Timeline(400, false).find(std::string(c.free_function) + ":"), std::string::npos);
    EXPECT_EQ(e.finding.where, std::string("freed by ") + c.free_function);
  }
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
// The use-after-free the seed patch's posted form adds, with the
// reclamation oracles off: ASan reports the stale access, and the death
// callback writes it as a finding value: named by kind and the first
// function of the tree on ASan's stack, with the free site and the trace.
TEST(FindingsDeathTest, AsanFindingIsWrittenAsAValue) {
  const std::optional<Variant> v = Tree("linux-6.12+always-defer-v1");
  if (!v) GTEST_SKIP() << "linux-6.12+always-defer-v1 not built";
  const std::string out = testing::TempDir() + "/asan-finding.json";
  std::remove(out.c_str());
  setenv("RECLAIMFUZZ_FINDING_OUT", out.c_str(), 1);
  fuzz::Program p = Load("corpus/storage_linux_6_12_always_defer_v1_fuzz/regression/use-after-free.txt");
  EXPECT_DEATH(
      {
        fuzz::SetReportInput(&p, *v);
        (void)RunIt(p, *v, /*oracles=*/false);
      },
      "heap-use-after-free");
  unsetenv("RECLAIMFUZZ_FINDING_OUT");
  absl::StatusOr<fuzz::Execution> e = fuzz::ExecutionFromJson(Read(out));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->finding.source, "asan");
  EXPECT_EQ(e->finding.name, "use-after-free");
  EXPECT_FALSE(e->finding.function.empty());
  EXPECT_EQ(e->finding.where, "in " + e->finding.function);
  ASSERT_TRUE(e->finding.object.has_value());
  EXPECT_TRUE(e->finding.object->freed);
  EXPECT_FALSE(e->finding.object->free.function.empty());
  EXPECT_FALSE(e->events.empty());
  EXPECT_FALSE(e->op_names.empty());
  EXPECT_GT(e->finding.step, 0u);
}
#endif

#if __has_feature(thread_sanitizer)
// Written by two tasks with nothing ordering them: the race TSan reports
// (volatile: nothing reads it, and the compiler must keep the stores).
volatile int g_racy = 0;
__attribute__((noinline)) void RacyStore(int v) { g_racy = v; }

// A data race between two tasks of the machine: TSan's report hook records
// it, the execution runs to its end, and the finding value is written
// after it, as a TSan fuzz target replaying a crash does: named data-race in
// the first function of ours on the racy access's stack, with the
// machine's trace and the racing task.
TEST(FindingsDeathTest, TsanFindingIsWrittenAsAValue) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // no fork() beside TSan's background thread
  const std::string out = testing::TempDir() + "/tsan-finding.json";
  std::remove(out.c_str());
  setenv("RECLAIMFUZZ_FINDING_OUT", out.c_str(), 1);
  fuzz::Program p = Load("corpus/seeds/get_update_delete.txt");
  EXPECT_DEATH(
      {
        fuzz::SetReportInput(&p, Variant::kV4);
        sched::Scheduler& s = fuzz::LastScheduler();
        sched::RandomChoice choice(1);
        sched::Options o;
        o.num_vcpus = 2;
        o.choice = &choice;
        if (!s.Reset(o).ok()) abort();
        for (int cpu = 0; cpu < 2; ++cpu) {
          if (!s.Spawn(cpu == 0 ? "writer0" : "writer1", sched::TaskKind::kProcess, cpu, [&s, cpu] {
                  for (int i = 0; i < 20; ++i) {  // interleaved with the other writer's
                    s.Point(sched::PointKind::kAccess, "before the store");
                    RacyStore(cpu);
                  }
                }).ok()) {
            abort();
          }
        }
        (void)s.Run();
        if (fuzz::WriteSanitizerFindingAfterRun()) abort();
      },
      "data race");
  unsetenv("RECLAIMFUZZ_FINDING_OUT");
  absl::StatusOr<fuzz::Execution> e = fuzz::ExecutionFromJson(Read(out));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->finding.source, "tsan");
  EXPECT_EQ(e->finding.name, "data-race");
  EXPECT_NE(e->finding.function.find("RacyStore"), std::string::npos) << e->finding.function;
  EXPECT_EQ(e->finding.where, "in " + e->finding.function);
  EXPECT_FALSE(e->events.empty());
  EXPECT_GT(e->finding.step, 0u);
  EXPECT_TRUE(e->finding.task == "writer0" || e->finding.task == "writer1") << e->finding.task;
}

// Runs a program file on a variant as a TSan fuzz target replaying a crash
// does; exits 0 (TSan makes it 66 after a report) or
// aborts once the finding is written.
void RunTsanReplay(const char* file, Variant v) {
  fuzz::Program p = Load(file);
  fuzz::SetReportInput(&p, v);
  const fuzz::RunResult r = RunIt(p, v);
  if (r.finding != "none") {
    fprintf(stderr, "oracle finding %s\n", r.finding.c_str());
    exit(3);
  }
  if (fuzz::WriteSanitizerFindingAfterRun()) abort();
  exit(0);
}

void RunMapFreeRace(Variant v) { RunTsanReplay("tests/data/map-free-tsan-race.txt", v); }

// The map_free use-after-free where the schedule does not show it: the
// oracles report nothing, TSan reports map_free's regular-RCU free of an
// element a sleepable reader of another map loaded, unordered with that
// load.
TEST(FindingsDeathTest, TsanSeesTheMapFreeUseAfterFreeTheScheduleMisses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string out = testing::TempDir() + "/tsan-map-free.json";
  std::remove(out.c_str());
  setenv("RECLAIMFUZZ_FINDING_OUT", out.c_str(), 1);
  EXPECT_DEATH(RunMapFreeRace(Variant::kV4SrcuFix), "data race");
  unsetenv("RECLAIMFUZZ_FINDING_OUT");
  absl::StatusOr<fuzz::Execution> e = fuzz::ExecutionFromJson(Read(out));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->finding.name, "data-race");
  EXPECT_NE(e->finding.function.find("bpf_selem_free_rcu"), std::string::npos) << e->finding.function;
  ASSERT_TRUE(e->finding.object.has_value());
  EXPECT_EQ(e->finding.object->type, "bpf_local_storage_elem");
}

// The same program on the map_free fix: its Tasks Trace wait orders the
// reader's loads before the frees, and TSan reports nothing.
TEST(FindingsDeathTest, TsanSeesNoMapFreeRaceWithTheFix) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  absl::StatusOr<Variant> fixed = storage::ParseVariant("v4+map-free-fix");
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  setenv("TSAN_OPTIONS", "halt_on_error=0:exitcode=66", 1);
  EXPECT_EXIT(RunMapFreeRace(*fixed), ::testing::ExitedWithCode(0), "");
}

// A map release that waited for the programs using the map orders their
// accesses before map_free's (tests/data/map-release-wait-tsan.txt).
TEST(FindingsDeathTest, TsanSeesAMapReleaseOrderedAfterTheProgramsItWaitedFor) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  absl::StatusOr<Variant> v = storage::ParseVariant("linux-6.1+map-free-fix");
  ASSERT_TRUE(v.ok()) << v.status();
  if (!fuzz::VariantBuilt(*v)) GTEST_SKIP() << "this build has no linux-6.1 tree";
  setenv("TSAN_OPTIONS", "halt_on_error=0:exitcode=66", 1);
  EXPECT_EXIT(RunTsanReplay("tests/data/map-release-wait-tsan.txt", *v), ::testing::ExitedWithCode(0), "");
}
#endif
#endif

}  // namespace
}  // namespace reclaimfuzz
