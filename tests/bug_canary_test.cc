// SPDX-License-Identifier: MIT
// The bug benchmark's canaries (patches/bugs/bugs.txt): every bug variant
// this build compiled has a reproducer, patches/bugs/repro/<bug>.txt, that
// reaches and triggers the bug (engine/linux/bug.h's counters go up) and
// gives the bug's expected finding, and replays to no finding on the base
// variant the bug was injected into. Bug variants stay out of the engine
// variants (AllVariants(): campaigns, Registry.*, the clean checks) and
// are found by name.
#include <filesystem>
#include <set>
#include <string>

#include "engine/linux/bug.h"
#include "engine/report/report.h"
#include "engine/storage/variant.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "gtest/gtest.h"
#include "tests/program_files.h"

namespace reclaimfuzz {
namespace {

namespace fs = std::filesystem;
using storage::Variant;

const fs::path kBugs = fs::path(RF_SOURCE_DIR) / "patches" / "bugs";

fuzz::RunOptions OptionsFor(Variant v) {
  fuzz::RunOptions o;
  o.variant = v;
  o.on_finding = check::OnFinding::kStop;
  return o;
}

fuzz::Program ProgramFor(const fs::path& path, Variant v) {
  fuzz::Program p = testing::LoadText(path);
  fuzz::AsFuzzTargetsRun(p, v);  // task storage only, as the fuzz targets run it
  return p;
}

std::vector<Variant> BuiltBugs() {
  std::vector<Variant> out;
  for (Variant v : storage::BugVariants()) {
    if (fuzz::VariantBuilt(v)) out.push_back(v);
  }
  return out;
}

TEST(BugRegistry, BugVariantsAreNotEngineVariants) {
  ASSERT_FALSE(storage::BugVariants().empty()) << "patches/bugs/bugs.txt lists no bug";
  std::set<std::string> engine;
  for (Variant v : storage::AllVariants()) engine.insert(storage::VariantName(v));
  for (Variant v : storage::BugVariants()) {
    const storage::VariantInfo& info = storage::Info(v);
    EXPECT_TRUE(info.bug && info.is_tree) << info.name;
    EXPECT_FALSE(engine.count(info.name)) << info.name << " is among AllVariants()";
    EXPECT_EQ(info.known.size(), 1u) << info.name << ": one expected finding";
    absl::StatusOr<Variant> parsed = storage::ParseVariant(info.name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, v);
    absl::StatusOr<Variant> base = storage::ParseVariant(info.bug_base);
    ASSERT_TRUE(base.ok()) << info.name << ": base " << info.bug_base;
    EXPECT_TRUE(storage::IsRealTree(*base));
    EXPECT_TRUE(storage::Info(*base).known.empty())
        << info.name << ": the base " << info.bug_base << " must be a variant expected clean";
    EXPECT_FALSE(std::string(info.bug_class).empty()) << info.name;
  }
}

// Without the trees (no linux-source-6.12, or -DRF_BUG_VARIANTS=OFF) there
// is nothing to replay.
TEST(BugCanary, EveryBugHasAReproducer) {
  const std::vector<Variant> bugs = BuiltBugs();
  if (bugs.empty()) GTEST_SKIP() << "this build compiled no bug variant";
  for (Variant v : bugs) {
    const fs::path p = kBugs / "repro" / (std::string(storage::VariantName(v)) + ".txt");
    EXPECT_TRUE(fs::exists(p)) << storage::VariantName(v) << ": no reproducer " << p;
  }
}

TEST(BugCanary, ReproducersFindTheBugAndNothingOnTheBase) {
  const std::vector<Variant> bugs = BuiltBugs();
  if (bugs.empty()) GTEST_SKIP() << "this build compiled no bug variant";
  for (Variant v : bugs) {
    const storage::VariantInfo& info = storage::Info(v);
    const fs::path path = kBugs / "repro" / (std::string(info.name) + ".txt");
    if (!fs::exists(path)) continue;  // EveryBugHasAReproducer says so
    const Variant base = *storage::ParseVariant(info.bug_base);
    // The oracles see a stale access at the free (reader-saw-freed); a
    // use-after-free bug is ASan's, checked by the death test below.
    const std::string want = info.known[0] == "use-after-free" ? "" : info.known[0];
    if (!want.empty()) {
      const linux_tree::BugCounts before = linux_tree::BugCounters();
      const fuzz::RunResult bug = fuzz::RunProgram(ProgramFor(path, v), OptionsFor(v));
      const linux_tree::BugCounts after = linux_tree::BugCounters();
      EXPECT_EQ(bug.finding, want) << info.name << ": " << path << "\n" << check::FormatReport();
      EXPECT_GT(after.reached, before.reached) << info.name << ": the bug's code never ran";
      EXPECT_GT(after.triggered, before.triggered) << info.name << ": its broken state never held";
    }
    const linux_tree::BugCounts before = linux_tree::BugCounters();
    const fuzz::RunResult clean = fuzz::RunProgram(ProgramFor(path, base), OptionsFor(base));
    EXPECT_EQ(clean.finding, "none") << info.name << ": " << path << " on the base " << info.bug_base << "\n"
                                     << check::FormatReport();
    const linux_tree::BugCounts after = linux_tree::BugCounters();
    EXPECT_EQ(after.reached, before.reached) << "the base " << info.bug_base << " has bug hooks";
  }
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
TEST(BugCanaryDeathTest, UseAfterFreeBugsEndInAsanReports) {
  for (Variant v : BuiltBugs()) {
    const storage::VariantInfo& info = storage::Info(v);
    const fs::path path = kBugs / "repro" / (std::string(info.name) + ".txt");
    if (info.known[0] != "use-after-free" || !fs::exists(path)) continue;
    fuzz::RunOptions o = OptionsFor(v);
    o.oracles.reader_saw_freed = false;
    o.oracles.early_free = false;
    EXPECT_DEATH(fuzz::RunProgram(ProgramFor(path, v), o), "heap-use-after-free") << info.name;
  }
}
#endif
#endif

}  // namespace
}  // namespace reclaimfuzz
