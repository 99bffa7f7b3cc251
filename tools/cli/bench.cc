// SPDX-License-Identifier: MIT
// bench: time-to-find of B1-B3 per strategy, executions per second per
// build, and the false-findings check; with --bugs, the bug benchmark
// (patches/bugs/bugs.txt: reached, triggered and detected per bug and
// strategy). The pure parts (statistics, parsing, table, CSV, plot script)
// are in bench_stats.cc and bench_bugs.cc.
//
// Phases, each with progress lines:
//   1. the binaries: asan fuzz targets and baseline_runner, afl targets,
//      tsan and release targets: brought up to date (--build, the default;
//      under flock /tmp/rf-build-<preset>.lock when flock exists), or with
//      --nobuild only checked, a missing one named with the command to run.
//   2. executions/second of every build's targets replaying the checked-in
//      seeds, then of the asan targets of two clean variants fuzzing from
//      them (what a campaign job does), one measurement at a time.
//   3. time to find: runs x strategies x findings, --jobs at a time, each a
//      single process from an empty corpus with its own seed.
//   4. false findings: the product on every variant the registry expects
//      clean (any finding aborts) and on v4-srcu-fix (B1-B3's findings
//      abort), runs x cap each.
//   5. runs.csv, summary.csv, throughput.csv, false_findings.csv, table.txt,
//      survival-*.dat, survival.gp and survival.png (gnuplot) in --out.
// --bugs runs phase 3 over the bug variants instead of B1-B3 (phases 2 and
// 4 off unless asked for), each run with RECLAIMFUZZ_BUG_LOG set so that
// the bug's hooks record when it was reached and triggered, and writes
// bugs.csv and survival curves per bug class.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fuzz/finding.h"
#include "fuzz/interpreter.h"
#include "tools/cli/bench_bugs.h"
#include "tools/cli/bench_runs.h"
#include "tools/cli/bench_stats.h"
#include "tools/cli/campaign.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/engine.h"
#include "tools/cli/flags.h"
#include "tools/cli/subprocess.h"

ABSL_FLAG(int32_t, runs, 10, "runs per (finding, strategy) (--quick: 3; --bugs --quick: 2)");
ABSL_FLAG(int32_t, cap, 60, "time cap of one run, seconds (--quick: 25; --bugs: 300, --bugs --quick: 15)");
ABSL_FLAG(bool, bugs, false,
          "the bug benchmark: every bug of patches/bugs/bugs.txt (--findings picks some by name) "
          "instead of B1-B3; reached, triggered and detected per bug and strategy; "
          "results in results/bench-bugs-<time>/");
ABSL_FLAG(bool, quick, false,
          "a run of a few minutes: --runs 3 --cap 25 --strategies product,afl,random,pct2, "
          "1 s per throughput figure (flags given win)");
ABSL_FLAG(std::string, findings, "B1,B2,B3", "which findings to time: B1, B2, B3");
ABSL_FLAG(std::string, strategies, "product,afl,random,pct1,pct2,pct3,stress",
          "which strategies to run: product (libFuzzer), afl, random, pct1, pct2, pct3, stress (native threads)");
ABSL_FLAG(bool, throughput, true,
          "measure executions/second of each build replaying the seeds, and of the asan build fuzzing from them");
ABSL_FLAG(int32_t, fuzz_seconds, 20, "seconds of each fuzzing-from-the-seeds throughput figure (--quick: 10)");
ABSL_FLAG(bool, false_findings, true,
          "fuzz the variants expected clean (engine/variants.txt) and v4-srcu-fix with the product, runs x cap each");

namespace reclaimfuzz::cli {
namespace {

namespace fs = std::filesystem;
using bench::Bin;
using bench::CopySeeds;
using bench::Job;
using bench::Now;
using bench::Options;
using bench::Run;
using bench::Summary;
using bench::Target;

// bench --bugs --quick: sized so that the whole benchmark stays under 15
// minutes on two cores with every bug of patches/bugs/bugs.txt (the worst
// case, every run missing, is bugs x strategies x runs x cap / 2).
constexpr int kBugsQuickRuns = 2;
constexpr double kBugsQuickCap = 15;
constexpr const char* kBugsQuickStrategies = "product,random,pct2,stress";

constexpr const char* kPresets[] = {"release", "asan", "tsan", "afl"};
std::vector<storage::Variant> VariantsNamed(std::initializer_list<const char*> names) {
  std::vector<storage::Variant> out;
  for (const char* name : names) out.push_back(*storage::ParseVariant(name));
  return out;
}

// Whose executions/second the throughput phase measures: the model's two
// variants, then the real trees (same seeds, read as task storage) where
// the build has them.
const std::vector<storage::Variant>& ThroughputVariants() {
  static const auto* v =
      new std::vector<storage::Variant>(VariantsNamed({"always-defer-v1", "v4", "linux-6.1", "linux-6.12"}));
  return *v;
}

// Whose executions/second while fuzzing from the seeds the throughput phase
// measures (asan, the product's build): variants the registry expects
// clean, the model's and a real tree's, so that no finding ends the run.
const std::vector<storage::Variant>& FuzzingVariants() {
  static const auto* v = new std::vector<storage::Variant>(
      VariantsNamed({"always-defer-fixed+map-free-fix", "linux-6.12+always-defer-fixed+map-free-fix"}));
  return *v;
}

// The false-findings check: every registered variant the registry expects
// clean (any finding counts, all=true), and v4-srcu-fix, where only B1-B3's
// findings count that the registry does not know for it (its
// reader-saw-freed and use-after-free are the map_free finding's); trees
// only where this build has them.
struct FalseCheck {
  storage::Variant variant;
  bool all;
};
std::vector<FalseCheck> FalseCheckVariants() {
  std::vector<FalseCheck> out;
  for (storage::Variant v : storage::AllVariants()) {
    const storage::VariantInfo& info = storage::Info(v);
    if (info.registered && info.known.empty() && fuzz::VariantBuilt(v)) out.push_back({v, true});
  }
  out.push_back({storage::Variant::kV4SrcuFix, false});
  return out;
}

// ---- phase 1: binaries -------------------------------------------------------

struct Needed {
  std::string preset;
  std::vector<std::string> targets;
};

std::vector<Needed> NeededBinaries(const Options& o) {
  std::set<storage::Variant> ttf;
  for (const std::string& id : o.targets) ttf.insert(bench::FindTarget(id)->variant);
  const auto has = [&](const char* s) {
    return std::find(o.strategies.begin(), o.strategies.end(), s) != o.strategies.end();
  };
  bool baselines = false;
  for (const std::string& s : o.strategies) baselines |= s == "random" || s == "stress" || s.rfind("pct", 0) == 0;
  std::vector<Needed> out;
  for (const char* preset : kPresets) {
    std::set<std::string> t;
    const std::string p = preset;
    if (p == "asan") {
      if (has(bench::kProduct) || has("afl")) {  // afl's crashes are named by the asan target
        for (storage::Variant v : ttf) t.insert(FuzzTargetName(v));
      }
      if (baselines) t.insert("baseline_runner");
      if (o.false_findings) {
        for (const FalseCheck& c : FalseCheckVariants()) t.insert(FuzzTargetName(c.variant));
      }
    }
    if (p == "afl" && has("afl")) {
      for (storage::Variant v : ttf) t.insert(FuzzTargetName(v));
    }
    if (o.throughput) {
      for (storage::Variant v : ThroughputVariants()) {
        if (!fuzz::VariantBuilt(v)) continue;
        t.insert(FuzzTargetName(v));
      }
      if (p == "asan") {
        for (storage::Variant v : FuzzingVariants()) {
          if (fuzz::VariantBuilt(v)) t.insert(FuzzTargetName(v));
        }
      }
    }
    if (!t.empty()) out.push_back({p, std::vector<std::string>(t.begin(), t.end())});
  }
  return out;
}

absl::Status EnsureBinaries(const Options& o, std::ostream& out) {
  for (const Needed& n : NeededBinaries(o)) {
    std::vector<std::string> absent;
    for (const std::string& t : n.targets) {
      if (access(Bin(o, n.preset, t).c_str(), X_OK) != 0) absent.push_back(t);
    }
    const std::string build_dir = absl::StrCat(o.src, "/build/", n.preset);
    const std::string cmd = absl::StrCat("cmake --preset ", n.preset, " && cmake --build build/", n.preset,
                                         " --target ", absl::StrJoin(n.targets, " "));
    if (!o.build) {
      if (absent.empty()) continue;
      return absl::NotFoundError(absl::StrCat("missing ", build_dir, "/fuzz/", absent[0], "; build with: ", cmd));
    }
    if (n.preset == "afl" && !InPath("afl-clang-fast++")) {
      if (absent.empty()) continue;  // built before: use them as they are
      return absl::NotFoundError(
          "the afl build needs afl-clang-fast++ (Debian package afl++: tools/reclaimfuzz deps), "
          "or leave out --strategies afl and --throughput");
    }
    // Every binary is brought up to date (a no-op when it is), so that the
    // figures are those of the source tree.
    const std::vector<std::string>& missing = n.targets;
    const std::string log = o.out + "/build.log";
    out << "bench: building " << absl::StrJoin(missing, " ") << " (preset " << n.preset
        << ", up to date is a no-op; log: " << log << ")\n"
        << std::flush;
    // One build at a time per build folder, whoever else is building.
    std::vector<std::string> lock;
    if (InPath("flock")) lock = {"flock", absl::StrCat("/tmp/rf-build-", n.preset, ".lock")};
    std::error_code ec;
    if (!fs::exists(build_dir + "/build.ninja", ec)) {
      std::vector<std::string> argv = lock;
      argv.insert(argv.end(), {"cmake", "--preset", n.preset});
      absl::StatusOr<int> rc = RunLogged(argv, o.src, log + ".configure");
      if (!rc.ok() || *rc != 0) {
        return absl::InternalError(absl::StrCat("'cmake --preset ", n.preset, "' failed; see ", log, ".configure"));
      }
    }
    std::vector<std::string> argv = lock;
    argv.insert(argv.end(), {"cmake", "--build", build_dir, "--target"});
    argv.insert(argv.end(), missing.begin(), missing.end());
    SpawnOptions so;
    so.cwd = o.src;
    so.output_file = log;
    so.append = true;
    absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
    if (!p.ok()) return p.status();
    const int rc = (*p)->Wait();
    if (rc != 0) {
      return absl::InternalError(absl::StrCat("building failed (", cmd, "); see ", log));
    }
  }
  return absl::OkStatus();
}

// ---- phase 2: throughput -----------------------------------------------------

struct Throughput {
  std::string preset, variant;
  bool fuzzing = false;  // fuzzing from the seeds, not replaying them
  uint64_t execs = 0;
  double seconds = 0;  // the time the executions took, start-up left out
  std::string method;
  std::string error;
};

// One process of `bin` on the seeds, `rounds` times each. libFuzzer builds
// (asan, tsan) and release's replay main (fuzz/standalone_main.cc) run
// "-runs=R FILE...": each file is read once and its R executions timed in
// the process ("Executed FILE in N ms"); *seconds is their sum, start-up
// and file reads excluded. AFL++'s driver runs each file named once, so
// the list is repeated; *seconds is the wall clock of the whole process.
absl::Status TimeSeeds(const std::string& bin, bool runs_flag, const std::string& seed_dir,
                       const std::vector<std::string>& seeds, int rounds, const std::string& log, double* seconds) {
  std::vector<std::string> argv = {bin};
  if (runs_flag) {
    argv.push_back(absl::StrCat("-runs=", rounds));
    argv.insert(argv.end(), seeds.begin(), seeds.end());
  } else {
    for (int r = 0; r < rounds; ++r) argv.insert(argv.end(), seeds.begin(), seeds.end());
  }
  SpawnOptions so;
  so.cwd = seed_dir;
  so.output_file = log;
  // "none" is no finding's name: every finding is counted and ignored.
  so.env_set = {"RECLAIMFUZZ_ABORT_ON=none", "RECLAIMFUZZ_IGNORE="};
  const double t0 = Now();
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
  if (!p.ok()) return p.status();
  const int rc = (*p)->Wait();
  *seconds = Now() - t0;
  if (rc != 0) return absl::InternalError(absl::StrCat("exit ", rc, "; see ", log));
  if (runs_flag) {
    const std::string text = ReadFile(log).value_or("");
    uint64_t ms = 0;
    int files = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::ConsumePrefix(&line, "Executed ")) continue;
      const size_t in = line.rfind(" in ");
      uint64_t n = 0;
      if (in == absl::string_view::npos || !absl::SimpleAtoi(line.substr(in + 4, line.find(" ms", in) - in - 4), &n)) {
        continue;
      }
      ms += n;
      ++files;
    }
    if (files != static_cast<int>(seeds.size())) {
      return absl::InternalError(absl::StrCat("no 'Executed FILE in N ms' line per seed in ", log));
    }
    *seconds = ms / 1000.0;
  }
  return absl::OkStatus();
}

Throughput MeasureOne(const Options& o, const std::string& preset, storage::Variant v, const std::string& seed_dir,
                      const std::vector<std::string>& seeds) {
  Throughput t;
  t.preset = preset;
  t.variant = storage::VariantName(v);
  const std::string bin = Bin(o, preset, FuzzTargetName(v));
  const std::string log = absl::StrCat(o.out, "/logs/throughput-", preset, "-", t.variant, ".log");
  // Every build but AFL++'s takes -runs=R (libFuzzer's, or the replay main's).
  const bool runs_flag = preset != "afl";
  uint64_t rounds = 0;
  double secs = 0;
  absl::Status s;
  if (runs_flag) {
    t.method = preset == "release" ? "in-process (replay main -runs)" : "in-process (libFuzzer -runs)";
    double cal = 0;
    s = TimeSeeds(bin, true, seed_dir, seeds, 10, log, &cal);
    if (s.ok()) {
      const int r = static_cast<int>(std::clamp(o.throughput_seconds / std::max(cal / 10, 1e-5), 10.0, 1e6));
      s = TimeSeeds(bin, true, seed_dir, seeds, r, log, &secs);
      rounds = r;
    }
  } else {
    // Start-up: the fastest of three one-round processes (load only adds);
    // then processes of at most kMaxRounds rounds (the argument list), each
    // counting rounds - 1 in its time minus that start-up.
    t.method = "wall clock less start-up";
    constexpr int kMaxRounds = 2000;
    double startup = 1e9;
    for (int i = 0; i < 3 && s.ok(); ++i) {
      double w = 0;
      s = TimeSeeds(bin, false, seed_dir, seeds, 1, log, &w);
      startup = std::min(startup, w);
    }
    double cal = 0;
    if (s.ok()) s = TimeSeeds(bin, false, seed_dir, seeds, 11, log, &cal);
    int64_t want = 0;
    if (s.ok()) {
      // Sized on the gross time (start-up included), which is never too small.
      want = static_cast<int64_t>(std::clamp(o.throughput_seconds / (cal / 11), 10.0, 1e6));
      rounds = 10;
      secs = std::max(cal - startup, 0.0);
    }
    while (s.ok() && static_cast<int64_t>(rounds) < want && !Interrupted()) {
      const int k = static_cast<int>(std::min<int64_t>(want - rounds, kMaxRounds));
      double w = 0;
      s = TimeSeeds(bin, false, seed_dir, seeds, k + 1, log, &w);
      rounds += k;
      secs += std::max(w - startup, 0.0);
    }
  }
  if (!s.ok()) {
    t.error = std::string(s.message());
  } else if (secs <= 0) {
    t.error = "too fast to time";
  } else {
    t.execs = rounds * seeds.size();
    t.seconds = secs;
  }
  return t;
}

// libFuzzer fuzzing `v` (asan) from a fresh copy of the seeds for
// o.fuzz_seconds, as a campaign job starts: executions counted by libFuzzer
// (-print_final_stats), over the process's wall clock (start-up and the
// seeds' first runs included: about 0.1 s). The mutator, libFuzzer's
// bookkeeping and the new inputs it writes are in the figure. Oracle
// findings are counted and ignored; a sanitizer report ends the run (the
// variants are expected clean) and is an error. The scratch corpus is
// removed afterwards, the log kept.
Throughput MeasureFuzzing(const Options& o, storage::Variant v) {
  Throughput t;
  t.preset = "asan";
  t.variant = storage::VariantName(v);
  t.fuzzing = true;
  t.method = absl::StrCat("fuzzing from the seeds: libFuzzer -max_total_time=", o.fuzz_seconds, " -seed=1; wall clock");
  const std::string name = absl::StrCat("fuzzing-asan-", t.variant);
  const std::string log = absl::StrCat(o.out, "/logs/throughput-", name, ".log");
  const std::string corpus = absl::StrCat(o.out, "/throughput/", name);
  std::error_code ec;
  fs::remove_all(corpus, ec);
  fs::create_directories(corpus, ec);
  CopySeeds(o, corpus);
  SpawnOptions so;
  so.output_file = log;
  so.env_set = {"RECLAIMFUZZ_ABORT_ON=none", "RECLAIMFUZZ_IGNORE="};
  const std::vector<std::string> argv = {Bin(o, "asan", FuzzTargetName(v)),
                                         "-seed=1",
                                         absl::StrCat("-max_total_time=", o.fuzz_seconds),
                                         "-print_final_stats=1",
                                         absl::StrCat("-artifact_prefix=", corpus, "-"),
                                         corpus};
  const double t0 = Now();
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
  if (!p.ok()) {
    t.error = std::string(p.status().message());
    return t;
  }
  const int rc = (*p)->Wait();
  const double secs = Now() - t0;
  const std::optional<uint64_t> execs = bench::LibFuzzerExecs(ReadFile(log).value_or(""));
  if (rc != 0) {
    t.error = absl::StrCat("exit ", rc, " after ", absl::StrFormat("%.1f", secs), " s (a finding?); see ", log);
  } else if (!execs.has_value()) {
    t.error = absl::StrCat("no stat::number_of_executed_units line in ", log);
  } else {
    t.execs = *execs;
    t.seconds = secs;
  }
  fs::remove_all(corpus, ec);
  return t;
}

std::vector<Throughput> MeasureThroughput(const Options& o, std::ostream& out) {
  std::vector<Throughput> results;
  const std::string seed_dir = o.out + "/seeds";
  std::vector<std::string> seeds;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(seed_dir, ec)) {
    if (e.is_regular_file(ec)) seeds.push_back(e.path().filename().string());
  }
  std::sort(seeds.begin(), seeds.end());
  if (seeds.empty()) {
    out << "bench: throughput skipped: no seeds in " << o.src << "/corpus/seeds\n";
    return results;
  }
  out << "bench: executions/second on the " << seeds.size() << " checked-in seeds (about " << o.throughput_seconds
      << " s per figure)\n";
  fs::create_directories(o.out + "/logs", ec);
  const auto report = [&](Throughput t) {
    if (t.error.empty()) {
      out << absl::StrFormat("  %-8s %-16s %9s exec/s  (%s)\n", t.preset, t.variant,
                             bench::FormatCount(t.execs / t.seconds), t.method);
    } else {
      out << absl::StrFormat("  %-8s %-16s failed: %s\n", t.preset, t.variant, t.error);
    }
    out << std::flush;
    results.push_back(std::move(t));
  };
  for (const char* preset : kPresets) {
    for (storage::Variant v : ThroughputVariants()) {
      if (Interrupted()) return results;
      if (!fuzz::VariantBuilt(v)) continue;
      report(MeasureOne(o, preset, v, seed_dir, seeds));
    }
  }
  for (storage::Variant v : FuzzingVariants()) {
    if (Interrupted()) return results;
    if (!fuzz::VariantBuilt(v)) continue;
    out << absl::StrFormat("  asan     %s: fuzzing from the seeds for %d s...\n", storage::VariantName(v),
                           o.fuzz_seconds)
        << std::flush;
    report(MeasureFuzzing(o, v));
  }
  return results;
}

uint64_t SeedFor(size_t target_index, int run) { return 1000 * (target_index + 1) + run + 1; }

// ---- phase 5: output ---------------------------------------------------------

absl::Status Write(const std::string& path, const std::string& text) { return WriteFile(path, text); }

std::string DefaultOut(const std::string& src, bool bugs) {
  return absl::StrCat(src, bugs ? "/results/bench-bugs-" : "/results/bench-",
                      absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::LocalTimeZone()));
}

// --bugs: table.txt, summary.txt, bugs.csv, runs.csv, survival curves per
// bug class.
int WriteBugResults(const Options& o, const std::vector<Run>& runs, double t0, std::ostream& out) {
  std::string summary;
  std::string table = bench::FormatBugTable(runs, o.targets, o.strategies, o.runs, o.cap, &summary);
  (void)Write(o.out + "/runs.csv", bench::RunsCsv(runs));
  (void)Write(o.out + "/bugs.csv", bench::BugsCsv(runs, o.targets, o.strategies));
  const double start = std::min(0.01, o.cap / 10);
  const std::vector<std::string> classes = bench::BugClasses(o.targets);
  for (const std::string& c : classes) {
    for (const std::string& s : o.strategies) {
      std::vector<Run> these;
      for (const Run& r : runs) {
        if (r.strategy == s && bench::BugClass(r.target) == c) these.push_back(r);
      }
      (void)Write(absl::StrCat(o.out, "/survival-", c, "-", s, ".dat"),
                  bench::SurvivalDat(bench::Survival(these, o.cap, start)));
    }
  }
  (void)Write(o.out + "/survival.gp", bench::BugGnuplotScript(classes, o.strategies, o.cap, start));
  std::string plot_note;
  if (InPath("gnuplot")) {
    absl::StatusOr<int> rc = RunLogged({"gnuplot", "survival.gp"}, o.out, o.out + "/gnuplot.log");
    plot_note = rc.ok() && *rc == 0 ? absl::StrCat("survival curves per bug class: ", o.out, "/survival.png")
                                    : absl::StrCat("gnuplot failed; see ", o.out, "/gnuplot.log");
  } else {
    plot_note =
        "no gnuplot in PATH (Debian: gnuplot-nox): survival.png not drawn; run "
        "'gnuplot survival.gp' in the results folder";
  }
  const double took = Now() - t0;
  absl::StrAppend(&table, "\n", plot_note, "\nper run: ", o.out, "/runs.csv; per bug: ", o.out, "/bugs.csv\n",
                  absl::StrFormat("bench --bugs took %.0f s\n", took));
  (void)Write(o.out + "/table.txt", table);
  (void)Write(o.out + "/summary.txt", summary);
  out << "\n" << table << std::flush;
  return Interrupted() ? kExitInterrupted : kExitOk;
}

}  // namespace

int BenchMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("bench", args, out, err, &parsed); rc >= 0) return rc;
  const auto fail = [&](absl::string_view msg) {
    err << "reclaimfuzz bench: " << msg << "\n";
    return kExitUsage;
  };
  if (!parsed.positional.empty()) {
    return fail(absl::StrCat("unexpected argument '", parsed.positional[0], "'"));
  }
  Options o;
  o.src = SourceDir();
  o.quick = absl::GetFlag(FLAGS_quick);
  o.bugs = absl::GetFlag(FLAGS_bugs);
  o.runs = absl::GetFlag(FLAGS_runs);
  o.cap = absl::GetFlag(FLAGS_cap);
  std::string strategies = absl::GetFlag(FLAGS_strategies);
  if (o.bugs) {
    // Detection within 300 s is what a bug's row is judged by; --quick is
    // sized to stay under 15 minutes on two cores (README, "Measuring speed").
    if (!parsed.Given("cap")) o.cap = o.quick ? kBugsQuickCap : 300;
    if (o.quick && !parsed.Given("runs")) o.runs = kBugsQuickRuns;
    if (o.quick && !parsed.Given("strategies")) strategies = kBugsQuickStrategies;
  } else if (o.quick) {
    if (!parsed.Given("runs")) o.runs = 3;
    if (!parsed.Given("cap")) o.cap = 25;
    if (!parsed.Given("strategies")) strategies = "product,afl,random,pct2";
    o.throughput_seconds = 1;
  }
  o.fuzz_seconds = absl::GetFlag(FLAGS_fuzz_seconds);
  if (o.quick && !parsed.Given("fuzz_seconds")) o.fuzz_seconds = 10;
  o.jobs = absl::GetFlag(FLAGS_jobs);
  o.build = absl::GetFlag(FLAGS_build);
  o.throughput = absl::GetFlag(FLAGS_throughput);
  o.false_findings = absl::GetFlag(FLAGS_false_findings);
  if (o.bugs) {
    if (!parsed.Given("throughput")) o.throughput = false;
    if (!parsed.Given("false_findings")) o.false_findings = false;
  }
  if (o.runs < 1 || o.runs > 1000) return fail(absl::StrCat("--runs must be 1 to 1000, not ", o.runs));
  if (o.cap < 1 || o.cap > 86400) return fail(absl::StrCat("--cap must be 1 to 86400 seconds, not ", o.cap));
  if (o.jobs < 1 || o.jobs > 256) return fail(absl::StrCat("--jobs must be 1 to 256, not ", o.jobs));
  if (o.fuzz_seconds < 1 || o.fuzz_seconds > 3600) {
    return fail(absl::StrCat("--fuzz_seconds must be 1 to 3600, not ", o.fuzz_seconds));
  }
  std::vector<std::string> ids;
  for (const Target& t : o.bugs ? bench::BugTargets() : bench::Targets()) ids.push_back(t.id);
  if (o.bugs && ids.empty()) {
    return fail(
        "this build has no bug variant (patches/bugs/bugs.txt; built unless "
        "-DRF_BUG_VARIANTS=OFF, where linux-source-6.12 is installed)");
  }
  std::string findings = absl::GetFlag(FLAGS_findings);
  if (o.bugs && !parsed.Given("findings")) findings = absl::StrJoin(ids, ",");
  absl::StatusOr<std::vector<std::string>> targets = bench::ParseList(findings, ids, o.bugs ? "bug" : "finding");
  if (!targets.ok()) return fail(targets.status().message());
  absl::StatusOr<std::vector<std::string>> strats = bench::ParseList(strategies, bench::AllStrategies(), "strategy");
  if (!strats.ok()) return fail(strats.status().message());
  o.targets = *targets;
  o.strategies = *strats;
  if (std::find(o.strategies.begin(), o.strategies.end(), "afl") != o.strategies.end() && !InPath("afl-fuzz")) {
    return fail(
        "afl-fuzz is not in PATH (Debian package afl++: tools/reclaimfuzz deps), or "
        "leave afl out of --strategies");
  }
  o.out = absl::GetFlag(FLAGS_out).empty() ? DefaultOut(o.src, o.bugs) : absl::GetFlag(FLAGS_out);
  std::error_code ec;
  fs::create_directories(o.out + "/runs", ec);
  if (ec) return fail(absl::StrCat("cannot create ", o.out, ": ", ec.message()));
  o.out = fs::canonical(o.out, ec).string();

  InterruptScope interrupts;
  const double t0 = Now();
  out << absl::StrFormat(
             "bench: %s %s; strategies %s; %d runs each, cap %g s, %d at a time; "
             "results in %s\n",
             o.bugs ? "bugs" : "findings", absl::StrJoin(o.targets, ","), absl::StrJoin(o.strategies, ","), o.runs,
             o.cap, o.jobs, o.out)
      << std::flush;
  if (absl::Status s = EnsureBinaries(o, out); !s.ok()) {
    err << "reclaimfuzz bench: " << s.message() << "\n";
    return kExitUsage;
  }
  // AFL++ needs at least one input: a single trivial one (the version byte
  // alone, which decodes to the empty program). The others start from nothing.
  fs::create_directories(AflSeedDir(o), ec);
  if (absl::Status s = Write(AflSeedDir(o) + "/trivial", std::string(1, '\x01')); !s.ok()) {
    return fail(s.message());
  }
  // The seeds in binary form (throughput; false-finding runs start from them).
  std::vector<std::string> skipped;
  if (absl::StatusOr<int> n = PrepareCorpus({o.src + "/corpus/seeds"}, o.out + "/seeds", &skipped); !n.ok()) {
    return fail(n.status().message());
  }

  std::vector<Throughput> throughput;
  if (o.throughput) throughput = MeasureThroughput(o, out);

  // Time to find. Run r of every (target, strategy) before run r+1, so
  // that a stopped bench still has comparable counts.
  std::vector<Job> jobs;
  for (int r = 0; r < o.runs; ++r) {
    for (size_t ti = 0; ti < o.targets.size(); ++ti) {
      const Target& t = *bench::FindTarget(o.targets[ti]);
      const std::vector<Target>& all = o.bugs ? bench::BugTargets() : bench::Targets();
      size_t target_index = 0;
      while (all[target_index].id != t.id) ++target_index;
      for (const std::string& s : o.strategies) {
        Job j;
        j.run.target = t.id;
        j.run.strategy = s;
        j.run.index = r;
        j.run.seed = SeedFor(target_index, r);
        j.variant = t.variant;
        j.abort_on = t.names;
        j.bug = o.bugs;
        j.dir = absl::StrCat(o.out, "/runs/", t.id, "-", s, "-", r + 1);
        jobs.push_back(std::move(j));
      }
    }
  }
  out << absl::StrFormat("bench: time to find: %d runs\n", jobs.size()) << std::flush;
  RunPool(o, jobs, out);

  std::vector<Job> checks;
  if (o.false_findings && !Interrupted()) {
    for (const FalseCheck& c : FalseCheckVariants()) {
      const storage::Variant v = c.variant;
      for (int r = 0; r < o.runs; ++r) {
        Job j;
        j.false_check = true;
        j.run.target = storage::VariantName(v);
        j.run.strategy = bench::kProduct;
        j.run.index = r;
        j.run.seed = 9000 + r + 1;
        j.variant = v;
        if (!c.all) {
          // B1-B3's names, but not those the registry knows for the variant
          // (v4-srcu-fix's reader-saw-freed is the map_free finding).
          const std::vector<std::string>& known = storage::Info(v).known;
          for (const std::string& n : bench::AllTargetNames()) {
            if (std::find(known.begin(), known.end(), n) == known.end()) j.abort_on.push_back(n);
          }
        }
        j.dir = absl::StrCat(o.out, "/runs/false-", storage::VariantName(v), "-", r + 1);
        checks.push_back(std::move(j));
      }
    }
    std::vector<std::string> clean;
    for (const FalseCheck& c : FalseCheckVariants()) {
      if (c.all) clean.push_back(storage::VariantName(c.variant));
    }
    out << absl::StrFormat(
               "bench: false findings: the product on %s (expected clean: any finding counts) "
               "and v4-srcu-fix (B1-B3's), %d runs x %g s each, from the seeds\n",
               absl::StrJoin(clean, ", "), o.runs, o.cap)
        << std::flush;
    RunPool(o, checks, out);
  }

  // Results.
  std::vector<Run> runs;
  for (const Job& j : jobs) runs.push_back(j.run);
  if (o.bugs) return WriteBugResults(o, runs, t0, out);
  std::vector<Summary> summaries;
  std::vector<std::string> ratios;
  for (const std::string& id : o.targets) {
    std::vector<Summary> others;
    std::optional<Summary> product;
    for (const std::string& s : o.strategies) {
      Summary m = bench::Summarize(id, s, runs);
      summaries.push_back(m);
      if (s == bench::kProduct) {
        product = m;
      } else {
        others.push_back(m);
      }
    }
    for (const std::string& s : o.strategies) {
      ratios.push_back(
          s == bench::kProduct && product && !others.empty() ? bench::Ratio(*product, others, o.cap, nullptr) : "");
    }
  }
  std::string table = bench::FormatTable(summaries, o.strategies, o.runs, o.cap);

  if (!throughput.empty()) {
    absl::StrAppend(&table,
                    "\nexecutions/second on the checked-in seeds (asan, tsan, release: each file read once "
                    "and its -runs timed in-process; afl: wall clock less start-up)\n");
    std::string csv = "build,variant,mode,execs,seconds,execs_per_sec,method,error\n";
    bool fuzzing_heading = false;
    for (const Throughput& t : throughput) {
      if (t.fuzzing && !fuzzing_heading) {
        absl::StrAppend(&table, "executions/second fuzzing from the checked-in seeds (asan, one process, ",
                        o.fuzz_seconds, " s, wall clock)\n");
        fuzzing_heading = true;
      }
      if (t.error.empty()) {
        absl::StrAppendFormat(&table, "  %-8s %-*s %9s\n", t.preset, t.fuzzing ? 42 : 16, t.variant,
                              bench::FormatCount(t.execs / t.seconds));
      } else {
        absl::StrAppendFormat(&table, "  %-8s %-16s failed: %s\n", t.preset, t.variant, t.error);
      }
      absl::StrAppendFormat(&csv, "%s,%s,%s,%d,%.3f,%.1f,%s,%s\n", t.preset, t.variant,
                            t.fuzzing ? "fuzzing" : "replay", t.execs, t.seconds,
                            t.seconds > 0 ? t.execs / t.seconds : 0.0, t.method, t.error);
    }
    (void)Write(o.out + "/throughput.csv", csv);
  }
  bool false_ok = true;
  if (!checks.empty()) {
    std::string csv = "variant,run,seed,seconds,execs,finding,counts,error,log\n";
    absl::StrAppend(&table, "\nfalse findings (product, from the seeds, ", o.runs, " runs x ", o.cap,
                    " s per variant)\n");
    for (const FalseCheck& c : FalseCheckVariants()) {
      const std::string name = storage::VariantName(c.variant);
      double secs = 0;
      uint64_t execs = 0;
      int errors = 0;
      std::set<std::string> found, other;  // counted; ended a run but not counted
      for (const Job& j : checks) {
        if (j.run.target != name) continue;
        absl::StrAppendFormat(&csv, "%s,%d,%d,%.3f,%d,%s,%d,%s,%s\n", name, j.run.index, j.run.seed, j.run.seconds,
                              j.run.execs, j.run.finding, j.run.found ? 1 : 0, j.run.error, j.run.log);
        if (!j.run.error.empty()) {
          ++errors;
          continue;
        }
        secs += j.run.seconds;
        execs += j.run.execs;
        if (j.run.found) {
          found.insert(j.run.finding);
        } else if (j.run.finding != "none") {
          other.insert(j.run.finding);
        }
      }
      false_ok &= found.empty() && errors == 0;
      const bool all = c.all;
      absl::StrAppendFormat(&table, "  %-32s %s: %s s, %s execs%s%s\n", name,
                            found.empty() ? (errors ? "INCOMPLETE"
                                             : all  ? "ok, no finding"
                                                    : "ok, none of B1-B3's findings (its known ones not counted)")
                                          : absl::StrCat("FALSE FINDING ", absl::StrJoin(found, ",")),
                            bench::FormatSeconds(secs), bench::FormatCount(execs),
                            errors ? absl::StrCat(" (", errors, " runs failed)") : "",
                            other.empty() ? "" : absl::StrCat("; runs ended by ", absl::StrJoin(other, ",")));
    }
    (void)Write(o.out + "/false_findings.csv", csv);
  }

  (void)Write(o.out + "/runs.csv", bench::RunsCsv(runs));
  (void)Write(o.out + "/summary.csv", bench::SummaryCsv(summaries, ratios));
  // Survival curves.
  const double start = std::min(0.01, o.cap / 10);
  for (const std::string& id : o.targets) {
    for (const std::string& s : o.strategies) {
      std::vector<Run> these;
      for (const Run& r : runs) {
        if (r.target == id && r.strategy == s) these.push_back(r);
      }
      (void)Write(absl::StrCat(o.out, "/survival-", id, "-", s, ".dat"),
                  bench::SurvivalDat(bench::Survival(these, o.cap, start)));
    }
  }
  (void)Write(o.out + "/survival.gp", bench::GnuplotScript(o.targets, o.strategies, o.cap, start));
  std::string plot_note;
  if (InPath("gnuplot")) {
    absl::StatusOr<int> rc = RunLogged({"gnuplot", "survival.gp"}, o.out, o.out + "/gnuplot.log");
    plot_note = rc.ok() && *rc == 0 ? absl::StrCat("survival curves: ", o.out, "/survival.png")
                                    : absl::StrCat("gnuplot failed; see ", o.out, "/gnuplot.log");
  } else {
    plot_note =
        "no gnuplot in PATH (Debian: gnuplot-nox): survival.png not drawn; run "
        "'gnuplot survival.gp' in the results folder";
  }
  absl::StrAppend(&table, "\n", plot_note, "\nper run: ", o.out, "/runs.csv; summary: ", o.out, "/summary.csv\n");
  (void)Write(o.out + "/table.txt", table);
  out << "\n" << table;
  out << absl::StrFormat("bench: done in %.0f s\n", Now() - t0) << std::flush;
  if (Interrupted()) return kExitInterrupted;
  return false_ok ? kExitOk : kExitFinding;
}

}  // namespace reclaimfuzz::cli
