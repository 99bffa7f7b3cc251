// SPDX-License-Identifier: MIT
#include "tools/cli/bench_bugs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "fuzz/interpreter.h"

namespace reclaimfuzz::cli::bench {
namespace {

// A median that is not known (at least half the runs missed) is the cap.
double MedianOrCap(const Summary& s, double cap) { return s.median_seconds.value_or(cap); }

std::string Frac(int k, int n) { return absl::StrCat(k, "/", n); }

}  // namespace

std::vector<std::string> DetectingNames(const std::string& expected) {
  if (expected == "reader-saw-freed" || expected == "use-after-free") {
    return {"reader-saw-freed", "use-after-free"};
  }
  return {expected};
}

const std::vector<Target>& BugTargets() {
  static const std::vector<Target>* targets = [] {
    auto* out = new std::vector<Target>;
    for (storage::Variant v : storage::BugVariants()) {
      const storage::VariantInfo& info = storage::Info(v);
      if (!fuzz::VariantBuilt(v) || info.known.empty()) continue;
      out->push_back(Target{info.name, v, DetectingNames(info.known[0])});
    }
    return out;
  }();
  return *targets;
}

const Target* FindBugTarget(absl::string_view id) {
  for (const Target& t : BugTargets()) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::string BugClass(absl::string_view id) {
  const Target* t = FindBugTarget(id);
  return t == nullptr ? "" : storage::Info(t->variant).bug_class;
}

std::optional<double> ParseBugLogTime(absl::string_view text, double start_epoch_seconds) {
  int64_t ns = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &ns) || ns <= 0) return std::nullopt;
  return std::max(0.0, ns / 1e9 - start_epoch_seconds);
}

BugSummary SummarizeBug(const std::string& bug, const std::string& strategy, const std::vector<Run>& runs) {
  BugSummary b;
  b.detect = Summarize(bug, strategy, runs);
  for (const Run& r : runs) {
    if (r.target != bug || r.strategy != strategy || !r.error.empty()) continue;
    b.reached += r.reached ? 1 : 0;
    b.triggered += r.triggered ? 1 : 0;
  }
  return b;
}

std::vector<std::string> BugClasses(const std::vector<std::string>& bugs) {
  std::vector<std::string> out;
  for (const std::string& b : bugs) {
    const std::string c = BugClass(b);
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

std::optional<double> GeomeanSpeedup(const std::vector<Run>& runs, const std::vector<std::string>& bugs,
                                     const std::vector<std::string>& strategies, double cap) {
  const bool product = std::find(strategies.begin(), strategies.end(), kProduct) != strategies.end();
  if (!product || strategies.size() < 2 || bugs.empty()) return std::nullopt;
  double log_sum = 0;
  for (const std::string& bug : bugs) {
    const double p = MedianOrCap(Summarize(bug, kProduct, runs), cap);
    double best = std::numeric_limits<double>::infinity();
    for (const std::string& s : strategies) {
      if (s != kProduct) best = std::min(best, MedianOrCap(Summarize(bug, s, runs), cap));
    }
    const double floor = 1e-3;  // a median below a millisecond is a millisecond
    log_sum += std::log(std::max(best, floor) / std::max(p, floor));
  }
  return std::exp(log_sum / bugs.size());
}

std::string FormatBugTable(const std::vector<Run>& runs, const std::vector<std::string>& bugs,
                           const std::vector<std::string>& strategies, int runs_per, double cap,
                           std::string* summary_out) {
  const std::string over = absl::StrFormat(">%g", cap);
  std::string out = absl::StrFormat(
      "bug benchmark (patches/bugs/bugs.txt): %d bugs, %d runs per strategy, cap %g s\n"
      "reached: the bug's code ran; triggered: its broken state held; detected: the oracles "
      "reported its finding\n(median '%s': more than half the runs missed)\n\n",
      bugs.size(), runs_per, cap, over);
  const std::string head = absl::StrFormat("  %-8s %8s %9s %8s %10s %14s %8s %8s\n", "strategy", "reached", "triggered",
                                           "detected", "median s", "median execs", "min s", "max s");
  std::map<std::string, int> reached_bugs, triggered_bugs, detected_bugs, always_bugs;
  std::vector<std::string> only_product, nobody;
  std::vector<std::string> ratios;
  for (const std::string& bug : bugs) {
    const Target* t = FindBugTarget(bug);
    if (t == nullptr) continue;
    const storage::VariantInfo& info = storage::Info(t->variant);
    absl::StrAppend(&out, bug, " [", info.bug_class, "] ", absl::StrJoin(t->names, " | "), ": ", info.about, "\n",
                    head);
    std::optional<Summary> product;
    std::vector<Summary> others;
    bool other_found = false, any_found = false;
    for (const std::string& s : strategies) {
      const BugSummary b = SummarizeBug(bug, s, runs);
      const Summary& m = b.detect;
      absl::StrAppendFormat(
          &out, "  %-8s %8s %9s %8s %10s %14s %8s %8s\n", s, Frac(b.reached, m.runs), Frac(b.triggered, m.runs),
          Frac(m.found, m.runs), m.median_seconds ? FormatSeconds(*m.median_seconds) : over,
          m.median_execs ? FormatCount(*m.median_execs) : "-", m.min_seconds ? FormatSeconds(*m.min_seconds) : "-",
          m.max_seconds ? FormatSeconds(*m.max_seconds) : over);
      reached_bugs[s] += b.reached > 0;
      triggered_bugs[s] += b.triggered > 0;
      detected_bugs[s] += m.found > 0;
      always_bugs[s] += m.runs > 0 && m.found == m.runs;
      any_found |= m.found > 0;
      if (s == kProduct) {
        product = m;
      } else {
        others.push_back(m);
        other_found |= m.found > 0;
      }
    }
    if (product && !others.empty()) {
      std::string best;
      const std::string r = Ratio(*product, others, cap, &best);
      absl::StrAppend(&out, "  product vs best other (", best, "): ", r, "\n");
      if (product->found > 0 && !other_found) only_product.push_back(bug);
    }
    if (!any_found) nobody.push_back(bug);
    absl::StrAppend(&out, "\n");
  }
  std::string sum = absl::StrFormat("summary: %d bugs, %d runs per strategy, cap %g s\n", bugs.size(), runs_per, cap);
  absl::StrAppendFormat(&sum, "  %-8s %13s %15s %14s %16s\n", "strategy", "bugs reached", "bugs triggered",
                        "bugs detected", "in every run");
  for (const std::string& s : strategies) {
    absl::StrAppendFormat(&sum, "  %-8s %13d %15d %14d %16d\n", s, reached_bugs[s], triggered_bugs[s], detected_bugs[s],
                          always_bugs[s]);
  }
  if (std::optional<double> g = GeomeanSpeedup(runs, bugs, strategies, cap)) {
    absl::StrAppendFormat(&sum,
                          "  product speedup over the best other strategy of each bug, geometric mean over %d "
                          "bugs of\n  median time to detection (best other / product; a median that is not known, "
                          "i.e. more than half\n  the runs missed, counts as the cap, %g s, so a bug both miss "
                          "counts 1x): %.2fx\n",
                          bugs.size(), cap, *g);
    absl::StrAppendFormat(&sum, "  bugs only the product detected within the cap: %d%s\n", only_product.size(),
                          only_product.empty() ? "" : absl::StrCat(" (", absl::StrJoin(only_product, ", "), ")"));
  }
  absl::StrAppendFormat(&sum, "  bugs no strategy detected: %d%s\n", nobody.size(),
                        nobody.empty() ? "" : absl::StrCat(" (", absl::StrJoin(nobody, ", "), ")"));
  if (summary_out != nullptr) *summary_out = sum;
  return out + sum;
}

std::string BugsCsv(const std::vector<Run>& runs, const std::vector<std::string>& bugs,
                    const std::vector<std::string>& strategies) {
  std::string out =
      "bug,class,expected,strategy,runs,reached,triggered,detected,median_seconds,median_execs,"
      "min_seconds,max_seconds\n";
  const auto num = [](const std::optional<double>& v) { return v ? absl::StrFormat("%.3f", *v) : std::string(""); };
  for (const std::string& bug : bugs) {
    const Target* t = FindBugTarget(bug);
    for (const std::string& s : strategies) {
      const BugSummary b = SummarizeBug(bug, s, runs);
      absl::StrAppendFormat(&out, "%s,%s,%s,%s,%d,%d,%d,%d,%s,%s,%s,%s\n", bug, BugClass(bug),
                            t != nullptr ? absl::StrJoin(t->names, "|") : "", s, b.detect.runs, b.reached, b.triggered,
                            b.detect.found, num(b.detect.median_seconds), num(b.detect.median_execs),
                            num(b.detect.min_seconds), num(b.detect.max_seconds));
    }
  }
  return out;
}

std::string BugGnuplotScript(const std::vector<std::string>& classes, const std::vector<std::string>& strategies,
                             double cap, double start) {
  const size_t n = std::max<size_t>(classes.size(), 1);
  const size_t cols = std::min<size_t>(n, 4);
  const size_t rows = (n + cols - 1) / cols;
  std::string out = absl::StrFormat(
      "# Survival curves of reclaimfuzz bench --bugs: gnuplot survival.gp -> survival.png\n"
      "set terminal pngcairo size %d,%d font 'sans,10'\n"
      "set output 'survival.png'\n"
      "set multiplot layout %d,%d title 'bug benchmark: fraction of bug runs that detected "
      "their bug vs time, per bug class'\n"
      "set logscale x\n"
      "set xrange [%g:%g]\n"
      "set yrange [0:1.05]\n"
      "set xlabel 'seconds (log)'\n"
      "set ylabel 'fraction detected'\n"
      "set key top left\n"
      "set grid\n",
      420 * cols, 380 * rows, rows, cols, start, cap);
  for (const std::string& c : classes) {
    absl::StrAppend(&out, "set title \"", c, "\"\n");
    std::vector<std::string> plots;
    for (const std::string& s : strategies) {
      plots.push_back(absl::StrCat("'survival-", c, "-", s, ".dat' using 1:2 with steps lw 2 title '", s, "'"));
    }
    absl::StrAppend(&out, "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  }
  absl::StrAppend(&out, "unset multiplot\n");
  return out;
}

}  // namespace reclaimfuzz::cli::bench
