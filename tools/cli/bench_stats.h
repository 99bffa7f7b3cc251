// SPDX-License-Identifier: MIT
// bench's bookkeeping, apart from the processes it runs: which findings it
// times, what counts as finding them, reading each tool's output, the
// statistics (medians with misses, survival curves, ratios), the table,
// the CSV files and the gnuplot script. Pure functions, tested in
// bench_test.cc.
#ifndef RECLAIMFUZZ_TOOLS_CLI_BENCH_STATS_H_
#define RECLAIMFUZZ_TOOLS_CLI_BENCH_STATS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/storage/variant.h"

namespace reclaimfuzz::cli::bench {

// An expected finding of docs/design.md §1 and the finding names that count as it.
struct Target {
  std::string id;  // "B1"
  storage::Variant variant;
  std::vector<std::string> names;  // RECLAIMFUZZ_ABORT_ON
};

// B1 (list-corruption, lost-object) and B2 (early-free, reader-saw-freed,
// use-after-free, including an ASan heap-use-after-free report) on
// always-defer-v1; B3 (invalid-wait-context) on v4.
const std::vector<Target>& Targets();
// B1-B3, or a bug of the bug benchmark (bench_bugs.h).
const Target* FindTarget(absl::string_view id);

// Every finding name of B1-B3 (v4-srcu-fix must show none of them).
std::vector<std::string> AllTargetNames();

// Strategies, in table order: the product (libFuzzer with the schedule
// features and custom mutator), AFL++, and the no-feedback baselines of
// fuzz/baseline_runner.cc.
inline constexpr const char* kProduct = "product";
const std::vector<std::string>& AllStrategies();  // product afl random pct1 pct2 pct3 stress
bool IsStrategy(absl::string_view s);

// A comma-separated list of known names (strategies or finding ids), in
// the canonical order; the error names the unknown one and the valid ones.
absl::StatusOr<std::vector<std::string>> ParseList(absl::string_view list, const std::vector<std::string>& valid,
                                                   absl::string_view what);

// What a libFuzzer artifact (-artifact_prefix) is, by libFuzzer's file
// name: "crash" (crash-*, a finding or a sanitizer's death), "timeout",
// "oom", "asan:leak" (leak-*), "slow" (slow-unit-*); "" for another file.
std::string ArtifactKind(absl::string_view filename);

// The finding a run ended in: the name in the execution its target wrote
// when replaying the crash (RECLAIMFUZZ_FINDING_OUT, fuzz/sanitizer_report.h);
// without one, what libFuzzer's artifact says (ArtifactKind; "crash" when
// the replay named nothing: a crash that did not reproduce), or "none"
// without an artifact.
std::string RunFinding(const std::optional<std::string>& written_name, absl::string_view artifact_kind);

// Whether `name` is one of the target's finding names.
bool Counts(const Target& t, absl::string_view name);

// baseline_runner's last line "result k=v k=v ..." as a map; error if the
// output has no such line.
absl::StatusOr<std::map<std::string, std::string>> ParseResultLine(absl::string_view output);

// libFuzzer's "stat::number_of_executed_units: N" (-print_final_stats=1).
std::optional<uint64_t> LibFuzzerExecs(absl::string_view log);

// An AFL++ crash file name: "id:000000,sig:06,src:000000,time:1234,execs:5678,op:havoc,rep:2".
struct AflCrashName {
  std::optional<uint64_t> time_ms;  // since afl-fuzz started
  std::optional<uint64_t> execs;
};
std::optional<AflCrashName> ParseAflCrashName(absl::string_view file_name);

// One run of one strategy on one target.
struct Run {
  std::string target;    // "B1"
  std::string strategy;  // "product", "pct2", ...
  int index = 0;         // 0..runs-1
  uint64_t seed = 0;
  bool found = false;            // a finding of the target within the cap
  std::string finding = "none";  // what ended the run (another finding ends a run too)
  double seconds = 0;            // time to find; else how long it ran
  uint64_t execs = 0;            // executions to find; else how many it ran
  bool execs_known = true;
  std::string restarted_after;  // crashes of other kinds it went on after ("a+b")
  std::string error;            // the run could not be made (tool missing, ...)
  std::string log;              // its output, relative to the results folder
  // bench --bugs: whether the bug's code ran and its broken state held in
  // the run, and when (seconds from its start; engine/linux/bug.h).
  bool reached = false;
  bool triggered = false;
  double reached_seconds = 0;
  double triggered_seconds = 0;
};

// Medians count every run: a miss is longer than any run that found the
// bug (at least the cap), so a median that falls on a miss is not known
// (nullopt, printed ">CAP"). For an even count it is the mean of the two
// middle values, unknown if either is a miss.
std::optional<double> CensoredMedian(std::vector<std::optional<double>> values);

struct Summary {
  std::string target, strategy;
  int runs = 0;
  int found = 0;
  std::optional<double> median_seconds, median_execs;
  std::optional<double> min_seconds;  // fastest find (none if no find)
  std::optional<double> max_seconds;  // slowest; nullopt if a run missed
};

// Runs with an error are left out of `runs`.
Summary Summarize(const std::string& target, const std::string& strategy, const std::vector<Run>& runs);

// How many times faster the product's median is than the best other
// strategy's (the one with the lowest median, ties to the higher success
// rate). Unknown medians are bounds: ">=12.5x" when only the product's is
// known (the other took at least the cap), "<=0.3x" when only the other's,
// "n/a" when neither. `best` gets the other strategy's name.
std::string Ratio(const Summary& product, const std::vector<Summary>& others, double cap, std::string* best);

// Fraction of runs that had found the bug by time t: steps (t, k/n) from
// (start, 0) to (cap, found/n), one step per find.
std::vector<std::pair<double, double>> Survival(const std::vector<Run>& runs, double cap, double start);

// "12.3", "0.04", "1,234,567" (numbers in the table).
std::string FormatSeconds(double s);
std::string FormatCount(double n);

// The table: per target, one row per strategy (found, median s, median
// execs, min s, max s) and the product-vs-best line.
std::string FormatTable(const std::vector<Summary>& summaries, const std::vector<std::string>& strategies, int runs,
                        double cap);

// runs.csv and summary.csv.
std::string RunsCsv(const std::vector<Run>& runs);
std::string SummaryCsv(const std::vector<Summary>& summaries, const std::vector<std::string>& ratios);

// A gnuplot script drawing survival.png from survival-<target>-<strategy>.dat
// files in the same folder: one panel per target, one line per strategy,
// log time axis from `start` to `cap`.
std::string GnuplotScript(const std::vector<std::string>& targets, const std::vector<std::string>& strategies,
                          double cap, double start);
std::string SurvivalDat(const std::vector<std::pair<double, double>>& points);

}  // namespace reclaimfuzz::cli::bench

#endif  // RECLAIMFUZZ_TOOLS_CLI_BENCH_STATS_H_
