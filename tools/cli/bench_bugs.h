// SPDX-License-Identifier: MIT
// bench --bugs: the bug benchmark (patches/bugs/bugs.txt), Magma-style.
// Every bug variant is a target; a run says whether the bug's code was
// reached, whether its broken state was triggered (engine/linux/bug.h) and
// whether the oracles detected it (the expected finding), with the time of
// each. Pure functions over the runs, tested in bench_test.cc.
#ifndef RECLAIMFUZZ_TOOLS_CLI_BENCH_BUGS_H_
#define RECLAIMFUZZ_TOOLS_CLI_BENCH_BUGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/cli/bench_stats.h"

namespace reclaimfuzz::cli::bench {

// The names that count as detecting a bug whose expected finding is
// `expected`: the name itself; a stale access (reader-saw-freed,
// use-after-free) is the same bug whichever of the oracle and ASan sees it
// first.
std::vector<std::string> DetectingNames(const std::string& expected);

// One target per bug variant this build compiled, in the registry's order:
// id and variant name the same, names its DetectingNames().
const std::vector<Target>& BugTargets();
const Target* FindBugTarget(absl::string_view id);
// The bug's class (bugs.txt), "" for other ids.
std::string BugClass(absl::string_view id);

// "<time in ns since the epoch>\n", as engine/linux/bug.cc writes a
// RECLAIMFUZZ_BUG_LOG file: seconds since `start_epoch_seconds`, or nullopt
// if the text is not such a line.
std::optional<double> ParseBugLogTime(absl::string_view text, double start_epoch_seconds);

// Per bug and strategy: the time-to-detection summary and how many runs
// reached and triggered the bug.
struct BugSummary {
  Summary detect;
  int reached = 0;
  int triggered = 0;
};
BugSummary SummarizeBug(const std::string& bug, const std::string& strategy, const std::vector<Run>& runs);

// The whole result: per bug the rows of each strategy, then the summary
// (bugs detected by each strategy at least once and in every run; the
// product's speedup over the best other strategy per bug and their
// geometric mean, a median that is not known counting as the cap; the bugs
// only the product detects). `summary` gets the summary part alone.
std::string FormatBugTable(const std::vector<Run>& runs, const std::vector<std::string>& bugs,
                           const std::vector<std::string>& strategies, int runs_per, double cap, std::string* summary);

// bugs.csv: one row per (bug, strategy).
std::string BugsCsv(const std::vector<Run>& runs, const std::vector<std::string>& bugs,
                    const std::vector<std::string>& strategies);

// The classes of `bugs`, in first-seen order.
std::vector<std::string> BugClasses(const std::vector<std::string>& bugs);

// The geometric mean of best-other median / product median over `bugs`,
// medians that are not known (a miss in at least half the runs) taken as
// `cap`. nullopt without a product and another strategy.
std::optional<double> GeomeanSpeedup(const std::vector<Run>& runs, const std::vector<std::string>& bugs,
                                     const std::vector<std::string>& strategies, double cap);

// survival.gp for the bug benchmark: one panel per class, one line per
// strategy, from survival-<class>-<strategy>.dat (the fraction of that
// class's bug runs that detected their bug by time t).
std::string BugGnuplotScript(const std::vector<std::string>& classes, const std::vector<std::string>& strategies,
                             double cap, double start);

}  // namespace reclaimfuzz::cli::bench

#endif  // RECLAIMFUZZ_TOOLS_CLI_BENCH_BUGS_H_
