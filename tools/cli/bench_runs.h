// SPDX-License-Identifier: MIT
// bench's runs (phases 3 and 4 of tools/cli/bench.cc): each run one
// process (the product, AFL++ or a baseline) with its own seed, --jobs at a
// time; a run that ends with a crash has it named by the asan target
// replaying it (RECLAIMFUZZ_FINDING_OUT), and one ended by a finding that
// does not count restarts for the rest of its time.
#ifndef RECLAIMFUZZ_TOOLS_CLI_BENCH_RUNS_H_
#define RECLAIMFUZZ_TOOLS_CLI_BENCH_RUNS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "engine/storage/variant.h"
#include "tools/cli/bench_stats.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli::bench {

// The benchmark's settings (bench's flags, resolved).
struct Options {
  int runs = 10;
  double cap = 60;
  bool quick = false;
  bool bugs = false;
  int jobs = 2;
  std::vector<std::string> targets, strategies;
  bool throughput = true, false_findings = true, build = true;
  std::string out, src;
  double throughput_seconds = 3;
  int fuzz_seconds = 20;  // each fuzzing-from-the-seeds figure
};

// Seconds on a steady clock.
double Now();

// A binary of this checkout's build of `preset`: <src>/build/<preset>/fuzz/<name>.
std::string Bin(const Options& o, const std::string& preset, const std::string& name);

// The folder of AFL++'s one trivial seed.
std::string AflSeedDir(const Options& o);

// The binary seeds (<out>/seeds), copied into `dir`, which must exist.
void CopySeeds(const Options& o, const std::string& dir);

// One run in flight. `run` is filled in as it goes.
struct Job {
  Run run;
  storage::Variant variant = storage::Variant::kV4;
  std::vector<std::string> abort_on;  // empty: any finding
  bool false_check = false;           // phase 4
  bool bug = false;                   // --bugs: RECLAIMFUZZ_BUG_LOG=<dir>/bug
  std::string dir;                    // <out>/runs/<name>/
  double start = 0;
  double start_epoch = 0;  // start, in seconds since the epoch
  std::unique_ptr<Subprocess> proc;
  // Crash files already looked at (AFL++'s, a product run's libFuzzer
  // artifacts), and the one the asan target is naming.
  std::set<std::string> seen_crashes;
  std::unique_ptr<Subprocess> verifier;
  std::string verifying;
  double verifying_time = 0;
  std::optional<uint64_t> verifying_execs;
  // A product or baseline run ended by a crash that does not count is
  // restarted for the rest of its time (the product on the corpus it grew):
  // findings of other kinds are counted and ignored, not a run's end.
  int segment = 0;
  uint64_t execs_before = 0;
  bool execs_unknown_before = false;
  size_t log_offset = 0;
  bool done = false;
};

// Runs every job, --jobs at a time, printing a line as each ends and a
// status line every 30 s.
void RunPool(const Options& o, std::vector<Job>& jobs, std::ostream& out);

}  // namespace reclaimfuzz::cli::bench

#endif  // RECLAIMFUZZ_TOOLS_CLI_BENCH_RUNS_H_
