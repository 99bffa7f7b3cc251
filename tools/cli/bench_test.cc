// SPDX-License-Identifier: MIT
// bench: its statistics, parsers, table and plot script, its usage errors,
// and (asan build) a smoke run of a few seconds.
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "engine/storage/variant.h"
#include "fuzz/finding.h"
#include "fuzz/interpreter.h"
#include "gtest/gtest.h"
#include "tools/cli/bench_bugs.h"
#include "tools/cli/bench_stats.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli::bench {
namespace {
namespace fs = std::filesystem;

bench::Run Found(const std::string& target, const std::string& strategy, double s, uint64_t e) {
  bench::Run r;
  r.target = target;
  r.strategy = strategy;
  r.found = true;
  r.finding = "lost-object";
  r.seconds = s;
  r.execs = e;
  return r;
}

bench::Run Missed(const std::string& target, const std::string& strategy, double cap) {
  bench::Run r;
  r.target = target;
  r.strategy = strategy;
  r.seconds = cap;
  r.execs = 1000000;
  return r;
}

TEST(BenchStats, MedianCountsMissesAsLongerThanEveryFind) {
  EXPECT_EQ(CensoredMedian({3.0, 1.0, 2.0}), 2.0);
  EXPECT_EQ(CensoredMedian({4.0, 1.0, 2.0, 3.0}), 2.5);
  // One miss of three: the median is still the middle find.
  EXPECT_EQ(CensoredMedian({std::nullopt, 5.0, 1.0}), 5.0);
  // Two of three missed: the median is a miss, unknown.
  EXPECT_EQ(CensoredMedian({std::nullopt, std::nullopt, 1.0}), std::nullopt);
  // Even count, the upper middle a miss: unknown.
  EXPECT_EQ(CensoredMedian({1.0, 2.0, std::nullopt, std::nullopt}), std::nullopt);
  EXPECT_EQ(CensoredMedian({1.0, 2.0, 3.0, std::nullopt}), 2.5);
  EXPECT_EQ(CensoredMedian({}), std::nullopt);
}

TEST(BenchStats, SummarizeOneStrategy) {
  std::vector<bench::Run> runs = {Found("B1", "product", 2, 200), Found("B1", "product", 4, 400),
                                  Missed("B1", "product", 60), Found("B1", "random", 1, 10),
                                  Found("B2", "product", 9, 9)};
  bench::Run broken = Found("B1", "product", 0.1, 1);
  broken.error = "could not start";
  runs.push_back(broken);
  const Summary s = Summarize("B1", "product", runs);
  EXPECT_EQ(s.runs, 3);
  EXPECT_EQ(s.found, 2);
  EXPECT_EQ(s.median_seconds, 4.0);
  EXPECT_EQ(s.median_execs, 400.0);
  EXPECT_EQ(s.min_seconds, 2.0);
  EXPECT_EQ(s.max_seconds, std::nullopt);  // a run missed
  const Summary all = Summarize("B1", "random", runs);
  EXPECT_EQ(all.found, 1);
  EXPECT_EQ(all.max_seconds, 1.0);
  // A find whose execution count is unknown gives no execs median.
  runs[0].execs_known = false;
  EXPECT_EQ(Summarize("B1", "product", runs).median_execs, std::nullopt);
  EXPECT_EQ(Summarize("B1", "product", runs).median_seconds, 4.0);
}

TEST(BenchStats, RatioAgainstTheBestOther) {
  Summary product{"B1", "product", 10, 10, 2.0, 100, 1, 3};
  Summary random{"B1", "random", 10, 10, 30.0, 1000, 1, 50};
  Summary pct{"B1", "pct2", 10, 10, 8.0, 1000, 1, 50};
  std::string best;
  EXPECT_EQ(Ratio(product, {random, pct}, 60, &best), "4x");
  EXPECT_EQ(best, "pct2");
  pct.median_seconds = 40;
  EXPECT_EQ(Ratio(product, {random, pct}, 60, &best), "15x");
  EXPECT_EQ(best, "random");
  // The others' medians unknown (> cap): a lower bound.
  random.median_seconds.reset();
  pct.median_seconds.reset();
  EXPECT_EQ(Ratio(product, {random, pct}, 60, &best), ">=30x");
  // The product's unknown, another's known: an upper bound.
  product.median_seconds.reset();
  pct.median_seconds = 6;
  EXPECT_EQ(Ratio(product, {random, pct}, 60, &best), "<=0.1x");
  EXPECT_EQ(best, "pct2");
  pct.median_seconds.reset();
  EXPECT_EQ(Ratio(product, {random, pct}, 60, &best), "n/a");
  // Equal medians: the higher success rate is the better one.
  product.median_seconds = 1;
  random.median_seconds = 5;
  random.found = 6;
  pct.median_seconds = 5;
  pct.found = 9;
  EXPECT_EQ(Ratio(product, {random, pct}, 60, &best), "5x");
  EXPECT_EQ(best, "pct2");
}

TEST(BenchStats, SurvivalSteps) {
  const std::vector<bench::Run> runs = {Found("B1", "afl", 5, 1), Missed("B1", "afl", 60), Found("B1", "afl", 1, 1),
                                        Found("B1", "afl", 0.001, 1)};
  const auto points = Survival(runs, 60, 0.01);
  const std::vector<std::pair<double, double>> want = {{0.01, 0}, {0.01, 0.25}, {1, 0.5}, {5, 0.75}, {60, 0.75}};
  EXPECT_EQ(points, want);
  EXPECT_EQ(Survival({}, 60, 0.01), (std::vector<std::pair<double, double>>{{0.01, 0}}));
  EXPECT_TRUE(absl::StrContains(SurvivalDat(points), "\n5.0000 0.7500\n"));
}

TEST(BenchStats, FindingFromTheWrittenExecutionOrTheArtifact) {
  EXPECT_EQ(ArtifactKind("crash-0123abcd"), "crash");
  EXPECT_EQ(ArtifactKind("timeout-0123"), "timeout");
  EXPECT_EQ(ArtifactKind("oom-0123"), "oom");
  EXPECT_EQ(ArtifactKind("leak-0123"), "asan:leak");
  EXPECT_EQ(ArtifactKind("slow-unit-0123"), "slow");
  EXPECT_EQ(ArtifactKind("log"), "");
  EXPECT_EQ(ArtifactKind("corpus"), "");
  // The written execution names the run's end; without one, the artifact.
  EXPECT_EQ(RunFinding(std::string("use-after-free"), "crash"), "use-after-free");
  EXPECT_EQ(RunFinding(std::string("early-free"), "crash"), "early-free");
  EXPECT_EQ(RunFinding(std::nullopt, "crash"), "crash");  // did not reproduce
  EXPECT_EQ(RunFinding(std::string("none"), "crash"), "crash");
  EXPECT_EQ(RunFinding(std::nullopt, "timeout"), "timeout");
  EXPECT_EQ(RunFinding(std::nullopt, "slow"), "none");
  EXPECT_EQ(RunFinding(std::nullopt, ""), "none");
  EXPECT_TRUE(Counts(*FindTarget("B2"), "use-after-free"));
  EXPECT_FALSE(Counts(*FindTarget("B1"), "early-free"));
  EXPECT_TRUE(Counts(*FindTarget("B3"), "invalid-wait-context"));
  EXPECT_EQ(AllTargetNames().size(), 6u);
}

TEST(BenchStats, ToolOutputs) {
  auto kv = ParseResultLine(
      "report...\nresult strategy=pct depth=2 variant=v4 seed=7 found=1 "
      "finding=invalid-wait-context seconds=0.032 execs=85 ignored=0\n");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ((*kv)["finding"], "invalid-wait-context");
  EXPECT_EQ((*kv)["execs"], "85");
  EXPECT_FALSE(ParseResultLine("no such line\n").ok());
  EXPECT_FALSE(ParseResultLine("result found=1 garbage\n").ok());

  EXPECT_EQ(LibFuzzerExecs("stat::number_of_executed_units: 4242\nstat::average_exec_per_sec: 9"), 4242u);
  EXPECT_EQ(LibFuzzerExecs("nothing"), std::nullopt);

  auto afl = ParseAflCrashName("id:000000,sig:06,src:000003,time:1234,execs:5678,op:havoc,rep:2");
  ASSERT_TRUE(afl.has_value());
  EXPECT_EQ(afl->time_ms, 1234u);
  EXPECT_EQ(afl->execs, 5678u);
  auto old = ParseAflCrashName("id:000001,sig:06,src:000000,op:flip1,pos:0");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->execs, std::nullopt);
  EXPECT_FALSE(ParseAflCrashName("README.txt").has_value());
}

TEST(BenchStats, Lists) {
  auto s = ParseList("pct2, product", AllStrategies(), "strategy");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::vector<std::string>{"product", "pct2"}));  // table order
  auto bad = ParseList("product,pct9", AllStrategies(), "strategy");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown strategy 'pct9' (product, afl, random, pct1, pct2, pct3, stress)");
  EXPECT_FALSE(ParseList("", AllStrategies(), "strategy").ok());
}

TEST(BenchStats, Formatting) {
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatSeconds(0.0123), "0.012");
  EXPECT_EQ(FormatSeconds(3.14159), "3.14");
  EXPECT_EQ(FormatSeconds(42.25), "42.2");
  EXPECT_EQ(FormatSeconds(120), "120");

  const std::vector<Summary> sums = {{"B1", "product", 3, 3, 2.0, 2000, 1.0, 3.0},
                                     {"B1", "random", 3, 1, std::nullopt, std::nullopt, 7.0, std::nullopt}};
  const std::string table = FormatTable(sums, {"product", "random"}, 3, 60);
  EXPECT_TRUE(absl::StrContains(table, "B1: list-corruption | lost-object on always-defer-v1")) << table;
  EXPECT_TRUE(absl::StrContains(table, "random       1/3        >60              -     7.00      >60")) << table;
  EXPECT_TRUE(absl::StrContains(table, "product vs best other (random): >=30x")) << table;
  EXPECT_FALSE(absl::StrContains(table, "B2:")) << table;

  const std::string csv = SummaryCsv(sums, {">=30x", ""});
  EXPECT_TRUE(absl::StrContains(csv, "\nB1,product,3,3,1.00,2.000,2000.000,1.000,3.000,>=30x\n")) << csv;
  EXPECT_TRUE(absl::StrContains(csv, "\nB1,random,3,1,0.33,,,7.000,,\n")) << csv;
  bench::Run r = Found("B3", "pct1", 0.5, 50);
  r.error = "a, b";
  r.restarted_after = "asan:SEGV";
  EXPECT_TRUE(absl::StrContains(RunsCsv({r}), "\nB3,v4,pct1,0,0,1,lost-object,0.500,50,a  b,,asan:SEGV,0,,0,\n"))
      << RunsCsv({r});

  const std::string gp = GnuplotScript({"B1", "B3"}, {"product", "afl"}, 60, 0.01);
  EXPECT_TRUE(absl::StrContains(gp, "set multiplot layout 1,2")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "'survival-B3-afl.dat' using 1:2 with steps")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "set xrange [0.01:60]")) << gp;
}

TEST(BenchBugs, DetectingNamesAndLogTimes) {
  EXPECT_EQ(DetectingNames("lost-object"), std::vector<std::string>{"lost-object"});
  EXPECT_EQ(DetectingNames("use-after-free"), (std::vector<std::string>{"reader-saw-freed", "use-after-free"}));
  EXPECT_EQ(DetectingNames("reader-saw-freed"), (std::vector<std::string>{"reader-saw-freed", "use-after-free"}));
  EXPECT_EQ(ParseBugLogTime("1000000002500000000\n", 1000000000.0), 2.5);
  EXPECT_EQ(ParseBugLogTime("999000000000000000\n", 1000000000.0), 0.0);  // before the start
  EXPECT_EQ(ParseBugLogTime("", 1), std::nullopt);
  EXPECT_EQ(ParseBugLogTime("soon", 1), std::nullopt);
}

TEST(BenchBugs, GeomeanSpeedupCountsMissesAsTheCap) {
  // bug-a: product 1 s, random 10 s, pct2 20 s (best other: random): 10x.
  // bug-b: both miss every run: cap / cap = 1x. Geometric mean: sqrt(10).
  std::vector<bench::Run> runs = {Found("bug-a", "product", 1, 10), Found("bug-a", "random", 10, 100),
                                  Found("bug-a", "pct2", 20, 100),  Missed("bug-b", "product", 30),
                                  Missed("bug-b", "random", 30),    Missed("bug-b", "pct2", 30)};
  const std::optional<double> g = GeomeanSpeedup(runs, {"bug-a", "bug-b"}, {"product", "random", "pct2"}, 30);
  ASSERT_TRUE(g.has_value());
  EXPECT_NEAR(*g, std::sqrt(10.0), 1e-9);
  // Only the product finds bug-b (12 s): 30 / 12 for it.
  runs[3] = Found("bug-b", "product", 12, 5);
  EXPECT_NEAR(*GeomeanSpeedup(runs, {"bug-a", "bug-b"}, {"product", "random", "pct2"}, 30), std::sqrt(10.0 * 30 / 12),
              1e-9);
  // A baseline faster than the product counts below 1x.
  EXPECT_NEAR(*GeomeanSpeedup(runs, {"bug-a"}, {"product", "pct2"}, 30), 20.0, 1e-9);
  EXPECT_EQ(GeomeanSpeedup(runs, {"bug-a"}, {"random", "pct2"}, 30), std::nullopt);
  EXPECT_EQ(GeomeanSpeedup(runs, {"bug-a"}, {"product"}, 30), std::nullopt);
}

TEST(BenchBugs, ReachedAndTriggeredPerStrategy) {
  bench::Run a = Found("bug-a", "product", 1, 10);
  a.reached = a.triggered = true;
  bench::Run b = Missed("bug-a", "product", 30);
  b.reached = true;
  bench::Run c = Missed("bug-a", "random", 30);
  const BugSummary p = SummarizeBug("bug-a", "product", {a, b, c});
  EXPECT_EQ(p.detect.runs, 2);
  EXPECT_EQ(p.detect.found, 1);
  EXPECT_EQ(p.reached, 2);
  EXPECT_EQ(p.triggered, 1);
  EXPECT_EQ(SummarizeBug("bug-a", "random", {a, b, c}).reached, 0);
}

TEST(BenchBugs, PlotOnePanelPerClass) {
  const std::string gp = BugGnuplotScript({"cache", "unlink", "lock"}, {"product", "pct2"}, 20, 0.01);
  EXPECT_TRUE(absl::StrContains(gp, "set multiplot layout 1,3")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "'survival-unlink-pct2.dat' using 1:2 with steps")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "set xrange [0.01:20]")) << gp;
  const std::string five = BugGnuplotScript({"a", "b", "c", "d", "e"}, {"product"}, 20, 0.01);
  EXPECT_TRUE(absl::StrContains(five, "set multiplot layout 2,4")) << five;
}

TEST(BenchBugs, EveryBuiltBugIsATarget) {
  for (storage::Variant v : storage::BugVariants()) {
    const storage::VariantInfo& info = storage::Info(v);
    const Target* t = FindTarget(info.name);
    if (!fuzz::VariantBuilt(v)) {
      EXPECT_EQ(t, nullptr) << info.name;
      continue;
    }
    ASSERT_NE(t, nullptr) << info.name;
    EXPECT_EQ(t->variant, v);
    EXPECT_EQ(t->names, DetectingNames(info.known.at(0)));
    EXPECT_EQ(BugClass(info.name), info.bug_class);
  }
  EXPECT_EQ(FindBugTarget("B1"), nullptr);
}

struct Outcome {
  int rc;
  std::string out, err;
};

Outcome Bench(const Args& args) {
  std::ostringstream out, err;
  const int rc = BenchMain(args, out, err);
  return {rc, out.str(), err.str()};
}

TEST(BenchCommand, BadUsageIsOneLineAndExit2) {
  for (const Args& args : std::vector<Args>{{"--runs=0"},
                                            {"--cap=0"},
                                            {"--jobs=0"},
                                            {"--fuzz_seconds=0"},
                                            {"--strategies=product,hill-climbing"},
                                            {"--findings=B4"},
                                            {"--bugs", "--findings=B1"},
                                            {"--frobnicate"},
                                            {"extra"}}) {
    const Outcome r = Bench(args);
    EXPECT_EQ(r.rc, kExitUsage) << args[0];
    EXPECT_TRUE(absl::StartsWith(r.err, "reclaimfuzz bench: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "") << args[0];
  }
  const Outcome help = Bench({"--help"});
  EXPECT_EQ(help.rc, kExitOk);
  EXPECT_TRUE(absl::StrContains(help.out, "--quick")) << help.out;
  EXPECT_TRUE(absl::StrContains(help.out, "--strategies")) << help.out;
}

#ifdef RF_BENCH_SMOKE
// Two real runs of a second or two: B2 with the product and the random
// baseline (the random tester finds B2 within a few dozen executions).
TEST(BenchCommand, Smoke) {
  const std::string dir = testing::TempDir() + "/bench_smoke";
  fs::remove_all(dir);
  const Outcome r = Bench({"--runs=1", "--cap=2", "--findings=B2", "--strategies=product,random,stress",
                           "--nothroughput", "--nofalse_findings", "--nobuild", "--jobs=2", "--out=" + dir});
  ASSERT_EQ(r.rc, kExitOk) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "] B2 random run 1: found ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "] B2 product run 1: ")) << r.out;
  // The stress baseline ran and gave a result line (found or not: it is
  // not deterministic).
  EXPECT_TRUE(absl::StrContains(r.out, "] B2 stress run 1: ")) << r.out;
  absl::StatusOr<std::string> runs = ReadFile(dir + "/runs.csv");
  ASSERT_TRUE(runs.ok());
  const std::vector<std::string> lines = absl::StrSplit(*runs, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << *runs;
  EXPECT_TRUE(absl::StartsWith(lines[3], "B2,always-defer-v1,stress,0,2001,")) << *runs;
  EXPECT_TRUE(absl::StartsWith(lines[2], "B2,always-defer-v1,random,0,2001,1,")) << *runs;
  // A product run that found B2 was named by replaying its crash file: the
  // name in runs.csv is the one in the execution the target wrote.
  const std::vector<std::string> product = absl::StrSplit(lines[1], ',');
  ASSERT_GT(product.size(), 6u) << lines[1];
  if (product[5] == "1") {
    absl::StatusOr<std::string> json = ReadFile(dir + "/runs/B2-product-1/finding.json");
    ASSERT_TRUE(json.ok()) << json.status();
    absl::StatusOr<fuzz::Execution> e = fuzz::ExecutionFromJson(*json);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->finding.name, product[6]) << lines[1];
  }
  absl::StatusOr<std::string> summary = ReadFile(dir + "/summary.csv");
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(absl::StrContains(*summary, "\nB2,random,1,1,1.00,")) << *summary;
  EXPECT_TRUE(fs::exists(dir + "/survival-B2-product.dat"));
  EXPECT_TRUE(fs::exists(dir + "/survival.gp"));
  EXPECT_TRUE(fs::exists(dir + "/table.txt"));
  if (cli::InPath("gnuplot")) EXPECT_TRUE(fs::exists(dir + "/survival.png")) << r.out;
}

#ifdef RF_BENCH_BUGS_SMOKE
// One product run of a few seconds on a bug whose free path every delete
// reaches: reached is recorded (from the bug's hook, through
// RECLAIMFUZZ_BUG_LOG), and the results folder has the bug tables.
TEST(BenchCommand, BugsSmoke) {
  const std::string dir = testing::TempDir() + "/bench_bugs_smoke";
  fs::remove_all(dir);
  const Outcome r = Bench({"--bugs", "--runs=1", "--cap=4", "--findings=bug-selem-free-regular-rcu",
                           "--strategies=product", "--nobuild", "--out=" + dir});
  ASSERT_EQ(r.rc, kExitOk) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "] bug-selem-free-regular-rcu product run 1: ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "; reached at ")) << r.out;
  absl::StatusOr<std::string> runs = ReadFile(dir + "/runs.csv");
  ASSERT_TRUE(runs.ok());
  const std::vector<std::string> lines = absl::StrSplit(*runs, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << *runs;
  EXPECT_TRUE(absl::StartsWith(lines[1], "bug-selem-free-regular-rcu,bug-selem-free-regular-rcu,product,0,")) << *runs;
  absl::StatusOr<std::string> bugs = ReadFile(dir + "/bugs.csv");
  ASSERT_TRUE(bugs.ok());
  EXPECT_TRUE(
      absl::StrContains(*bugs, "\nbug-selem-free-regular-rcu,rcu-flavour,reader-saw-freed|use-after-free,product,1,1,"))
      << *bugs;
  absl::StatusOr<std::string> table = ReadFile(dir + "/table.txt");
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(absl::StrContains(*table, "summary: 1 bugs")) << *table;
  EXPECT_TRUE(fs::exists(dir + "/survival-rcu-flavour-product.dat"));
}
#endif
#endif

}  // namespace
}  // namespace reclaimfuzz::cli::bench
