// SPDX-License-Identifier: MIT
// The scheduler's native-thread mode (engine/sched/scheduler_native.cc) on
// the storage model and the real trees, as fuzz/baseline_runner's stress
// baseline runs it: every checked-in seed runs to completion, with no
// finding, on the variants believed correct (a false finding from the mode
// itself, an interleaving the kernel forbids, would show here, under ASan
// and under TSan); and a finding that needs no particular interleaving is
// found on every run. Nothing here depends on which interleaving the OS
// picked.
#include <filesystem>
#include <string>
#include <vector>

#include "engine/storage/variant.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "gtest/gtest.h"
#include "tests/program_files.h"

namespace reclaimfuzz {
namespace {

namespace fs = std::filesystem;
using storage::Variant;

const fs::path kSeeds = fs::path(RF_SOURCE_DIR) / "corpus" / "seeds";

std::vector<fs::path> Seeds() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kSeeds)) {
    if (e.path().extension() == ".txt" && e.path().filename() != "expected.txt") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

fuzz::RunResult RunNative(const fuzz::Program& prog, Variant v, uint64_t seed) {
  fuzz::Program p = prog;
  fuzz::AsFuzzTargetsRun(p, v);
  fuzz::RunOptions o;
  o.variant = v;
  o.on_finding = check::OnFinding::kStop;
  o.native.enabled = true;
  o.native.seed = seed;
  o.native.irq_mean_us = 50;
  fuzz::RunResult r = fuzz::RunProgram(p, o);
  fuzz::ReleaseLastRun();
  return r;
}

TEST(NativeThreads, SeedsRunCleanOnTheCorrectVariants) {
  std::vector<Variant> variants = {*storage::ParseVariant("always-defer-fixed+map-free-fix")};
  if (absl::StatusOr<Variant> tree = storage::ParseVariant("linux-6.12+always-defer-fixed+map-free-fix");
      tree.ok() && fuzz::VariantBuilt(*tree)) {
    variants.push_back(*tree);
  }
  const std::vector<fs::path> seeds = Seeds();
  ASSERT_GE(seeds.size(), 5u);
  for (Variant v : variants) {
    for (const fs::path& f : seeds) {
      const fuzz::Program p = testing::LoadText(f);
      for (uint64_t run = 0; run < 10; ++run) {
        const fuzz::RunResult r = RunNative(p, v, run + 1);
        EXPECT_EQ(r.finding, "none") << f.filename() << " on " << storage::VariantName(v) << ", run " << run;
        EXPECT_EQ(r.status, sched::RunStatus::kCompleted) << f.filename() << " on " << storage::VariantName(v)
                                                          << ", run " << run << ": " << sched::RunStatusName(r.status);
        EXPECT_GT(r.steps, 0u);
      }
    }
  }
}

// A finding that holds on every interleaving of its seed: v4 calls
// call_rcu_tasks_trace() with the rq lock held (invalid-wait-context, at the
// call, whoever runs around it). corpus/seeds/expected.txt gives the same
// under the seed's own schedule.
TEST(NativeThreads, AFindingThatNeedsNoInterleavingIsFoundEveryRun) {
  const struct {
    const char* seed;
    const char* variant;
    const char* finding;
  } cases[] = {{"rq_locked_delete.txt", "v4", "invalid-wait-context"}};
  for (const auto& c : cases) {
    const Variant v = *storage::ParseVariant(c.variant);
    const fuzz::Program p = testing::LoadText(kSeeds / c.seed);
    for (uint64_t run = 0; run < 20; ++run) {
      EXPECT_EQ(RunNative(p, v, run + 1).finding, c.finding) << c.seed << " on " << c.variant << ", run " << run;
    }
  }
}

}  // namespace
}  // namespace reclaimfuzz
