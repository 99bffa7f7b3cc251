// SPDX-License-Identifier: MIT
#include "tools/cli/bench_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/cli/bench_bugs.h"

namespace reclaimfuzz::cli::bench {

const std::vector<Target>& Targets() {
  static const std::vector<Target>* targets = new std::vector<Target>{
      {"B1", storage::Variant::kAlwaysDeferV1, {"list-corruption", "lost-object"}},
      {"B2", storage::Variant::kAlwaysDeferV1, {"early-free", "reader-saw-freed", "use-after-free"}},
      {"B3", storage::Variant::kV4, {"invalid-wait-context"}},
  };
  return *targets;
}

const Target* FindTarget(absl::string_view id) {
  for (const Target& t : Targets()) {
    if (t.id == id) return &t;
  }
  return FindBugTarget(id);
}

std::vector<std::string> AllTargetNames() {
  std::vector<std::string> out;
  for (const Target& t : Targets()) out.insert(out.end(), t.names.begin(), t.names.end());
  return out;
}

const std::vector<std::string>& AllStrategies() {
  static const std::vector<std::string>* s =
      new std::vector<std::string>{kProduct, "afl", "random", "pct1", "pct2", "pct3", "stress"};
  return *s;
}

bool IsStrategy(absl::string_view s) {
  for (const std::string& x : AllStrategies()) {
    if (x == s) return true;
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> ParseList(absl::string_view list, const std::vector<std::string>& valid,
                                                   absl::string_view what) {
  std::vector<std::string> want;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    if (std::find(valid.begin(), valid.end(), item) == valid.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown ", what, " '", item, "' (", absl::StrJoin(valid, ", "), ")"));
    }
    want.emplace_back(item);
  }
  if (want.empty()) return absl::InvalidArgumentError(absl::StrCat("no ", what, " given"));
  std::vector<std::string> out;
  for (const std::string& v : valid) {
    if (std::find(want.begin(), want.end(), v) != want.end()) out.push_back(v);
  }
  return out;
}

std::string ArtifactKind(absl::string_view filename) {
  for (const auto& [prefix, kind] : {std::pair<absl::string_view, absl::string_view>{"crash-", "crash"},
                                     {"timeout-", "timeout"},
                                     {"oom-", "oom"},
                                     {"leak-", "asan:leak"},
                                     {"slow-unit-", "slow"}}) {
    if (absl::StartsWith(filename, prefix)) return std::string(kind);
  }
  return "";
}

std::string RunFinding(const std::optional<std::string>& written_name, absl::string_view artifact_kind) {
  if (written_name && !written_name->empty() && *written_name != "none") return *written_name;
  if (artifact_kind.empty() || artifact_kind == "slow") return "none";
  return std::string(artifact_kind);
}

bool Counts(const Target& t, absl::string_view name) {
  return std::find(t.names.begin(), t.names.end(), name) != t.names.end();
}

absl::StatusOr<std::map<std::string, std::string>> ParseResultLine(absl::string_view output) {
  absl::string_view last;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StartsWith(line, "result ")) last = line;
  }
  if (last.empty()) return absl::NotFoundError("no 'result' line in the output");
  std::map<std::string, std::string> kv;
  for (absl::string_view tok : absl::StrSplit(last.substr(7), ' ', absl::SkipWhitespace())) {
    const size_t eq = tok.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad token '", tok, "' in the result line"));
    }
    kv[std::string(tok.substr(0, eq))] = std::string(tok.substr(eq + 1));
  }
  return kv;
}

std::optional<uint64_t> LibFuzzerExecs(absl::string_view log) {
  std::optional<uint64_t> out;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::ConsumePrefix(&line, "stat::number_of_executed_units:")) continue;
    uint64_t n = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &n)) out = n;
  }
  return out;
}

std::optional<AflCrashName> ParseAflCrashName(absl::string_view file_name) {
  if (!absl::StartsWith(file_name, "id:")) return std::nullopt;
  AflCrashName out;
  for (absl::string_view field : absl::StrSplit(file_name, ',')) {
    uint64_t n = 0;
    if (absl::ConsumePrefix(&field, "time:") && absl::SimpleAtoi(field, &n)) {
      out.time_ms = n;
    } else if (absl::ConsumePrefix(&field, "execs:") && absl::SimpleAtoi(field, &n)) {
      out.execs = n;
    }
  }
  return out;
}

std::optional<double> CensoredMedian(std::vector<std::optional<double>> values) {
  if (values.empty()) return std::nullopt;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v;
  for (const auto& x : values) v.push_back(x.value_or(inf));
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double m = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  if (std::isinf(m)) return std::nullopt;
  return m;
}

Summary Summarize(const std::string& target, const std::string& strategy, const std::vector<Run>& runs) {
  Summary s;
  s.target = target;
  s.strategy = strategy;
  std::vector<std::optional<double>> secs, execs;
  bool missed = false, execs_unknown = false;
  for (const Run& r : runs) {
    if (r.target != target || r.strategy != strategy || !r.error.empty()) continue;
    ++s.runs;
    if (r.found) {
      ++s.found;
      secs.push_back(r.seconds);
      execs.push_back(r.execs_known ? std::optional<double>(static_cast<double>(r.execs)) : std::nullopt);
      execs_unknown |= !r.execs_known;
      s.min_seconds = std::min(s.min_seconds.value_or(r.seconds), r.seconds);
      s.max_seconds = std::max(s.max_seconds.value_or(r.seconds), r.seconds);
    } else {
      missed = true;
      secs.push_back(std::nullopt);
      execs.push_back(std::nullopt);
    }
  }
  if (missed) s.max_seconds.reset();
  s.median_seconds = CensoredMedian(secs);
  // A find whose count is unknown must not pass for a miss: no median then.
  s.median_execs = execs_unknown ? std::nullopt : CensoredMedian(execs);
  return s;
}

std::string Ratio(const Summary& product, const std::vector<Summary>& others, double cap, std::string* best) {
  const double inf = std::numeric_limits<double>::infinity();
  const Summary* b = nullptr;
  for (const Summary& o : others) {
    if (o.runs == 0) continue;
    const double om = o.median_seconds.value_or(inf);
    const double bm = b == nullptr ? inf : b->median_seconds.value_or(inf);
    if (b == nullptr || om < bm || (om == bm && o.found * b->runs > b->found * o.runs)) b = &o;
  }
  if (best != nullptr) *best = b == nullptr ? "" : b->strategy;
  if (b == nullptr || product.runs == 0) return "n/a";
  const auto x = [](double r) { return r >= 10 ? absl::StrFormat("%.0fx", r) : absl::StrFormat("%.2gx", r); };
  const double floor = 1e-3;  // a median below a millisecond is a millisecond
  if (product.median_seconds && b->median_seconds) {
    return x(std::max(*b->median_seconds, floor) / std::max(*product.median_seconds, floor));
  }
  if (product.median_seconds) return ">=" + x(cap / std::max(*product.median_seconds, floor));
  if (b->median_seconds) return "<=" + x(std::max(*b->median_seconds, floor) / cap);
  return "n/a";
}

std::vector<std::pair<double, double>> Survival(const std::vector<Run>& runs, double cap, double start) {
  std::vector<double> times;
  int n = 0;
  for (const Run& r : runs) {
    if (!r.error.empty()) continue;
    ++n;
    if (r.found) times.push_back(std::max(r.seconds, start));
  }
  std::vector<std::pair<double, double>> out = {{start, 0}};
  if (n == 0) return out;
  std::sort(times.begin(), times.end());
  for (size_t i = 0; i < times.size(); ++i) {
    out.emplace_back(times[i], static_cast<double>(i + 1) / n);
  }
  out.emplace_back(std::max(cap, out.back().first), static_cast<double>(times.size()) / n);
  return out;
}

std::string FormatSeconds(double s) {
  if (s >= 100) return absl::StrFormat("%.0f", s);
  if (s >= 10) return absl::StrFormat("%.1f", s);
  if (s >= 1) return absl::StrFormat("%.2f", s);
  return absl::StrFormat("%.3f", s);
}

std::string FormatCount(double n) {
  std::string digits = absl::StrFormat("%.0f", n);
  std::string out;
  const int len = static_cast<int>(digits.size());
  for (int i = 0; i < len; ++i) {
    if (i > 0 && (len - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

namespace {

std::string Cell(const std::optional<double>& v, const std::string& missing, bool count) {
  if (!v) return missing;
  return count ? FormatCount(*v) : FormatSeconds(*v);
}

}  // namespace

std::string FormatTable(const std::vector<Summary>& summaries, const std::vector<std::string>& strategies, int runs,
                        double cap) {
  const std::string over = absl::StrFormat(">%g", cap);
  std::string out = absl::StrFormat(
      "time to find, %d runs per strategy, cap %s s; a run that misses counts as longer than the "
      "cap\n(median '%s': more than half the runs missed; max '%s': some run missed)\n\n",
      runs, absl::StrFormat("%g", cap), over, over);
  absl::StrAppendFormat(&out, "%-8s %-8s %7s %10s %14s %8s %8s\n", "finding", "strategy", "found", "median s",
                        "median execs", "min s", "max s");
  for (const Target& t : Targets()) {
    std::vector<Summary> rows;
    for (const std::string& s : strategies) {
      for (const Summary& m : summaries) {
        if (m.target == t.id && m.strategy == s) rows.push_back(m);
      }
    }
    if (rows.empty()) continue;
    absl::StrAppend(&out, t.id, ": ", absl::StrJoin(t.names, " | "), " on ", storage::VariantName(t.variant), "\n");
    const Summary* product = nullptr;
    std::vector<Summary> others;
    for (const Summary& m : rows) {
      absl::StrAppendFormat(&out, "%-8s %-8s %7s %10s %14s %8s %8s\n", "", m.strategy,
                            absl::StrCat(m.found, "/", m.runs), Cell(m.median_seconds, over, false),
                            Cell(m.median_execs, "-", true), Cell(m.min_seconds, "-", false),
                            Cell(m.max_seconds, over, false));
      if (m.strategy == kProduct) {
        product = &m;
      } else {
        others.push_back(m);
      }
    }
    if (product != nullptr && !others.empty()) {
      std::string best;
      const std::string r = Ratio(*product, others, cap, &best);
      absl::StrAppend(&out, "         product vs best other (", best, "): ", r, " (best median / product median)\n");
    }
  }
  return out;
}

std::string RunsCsv(const std::vector<Run>& runs) {
  std::string out =
      "finding,variant,strategy,run,seed,found,finding_name,seconds,execs,error,log,"
      "restarted_after,reached,reached_seconds,triggered,triggered_seconds\n";
  for (const Run& r : runs) {
    const Target* t = FindTarget(r.target);
    std::string error = r.error;
    for (char& c : error) {
      if (c == ',' || c == '\n' || c == '"') c = ' ';
    }
    absl::StrAppendFormat(&out, "%s,%s,%s,%d,%d,%d,%s,%.3f,%s,%s,%s,%s,%d,%s,%d,%s\n", r.target,
                          t != nullptr ? storage::VariantName(t->variant) : "?", r.strategy, r.index, r.seed,
                          r.found ? 1 : 0, r.finding, r.seconds, r.execs_known ? absl::StrCat(r.execs) : "", error,
                          r.log, r.restarted_after, r.reached ? 1 : 0,
                          r.reached ? absl::StrFormat("%.3f", r.reached_seconds) : "", r.triggered ? 1 : 0,
                          r.triggered ? absl::StrFormat("%.3f", r.triggered_seconds) : "");
  }
  return out;
}

std::string SummaryCsv(const std::vector<Summary>& summaries, const std::vector<std::string>& ratios) {
  std::string out =
      "finding,strategy,runs,found,success_rate,median_seconds,median_execs,min_seconds,"
      "max_seconds,product_vs_best_other\n";
  const auto num = [](const std::optional<double>& v) { return v ? absl::StrFormat("%.3f", *v) : std::string(""); };
  for (size_t i = 0; i < summaries.size(); ++i) {
    const Summary& s = summaries[i];
    absl::StrAppendFormat(&out, "%s,%s,%d,%d,%.2f,%s,%s,%s,%s,%s\n", s.target, s.strategy, s.runs, s.found,
                          s.runs ? static_cast<double>(s.found) / s.runs : 0.0, num(s.median_seconds),
                          num(s.median_execs), num(s.min_seconds), num(s.max_seconds),
                          i < ratios.size() ? ratios[i] : "");
  }
  return out;
}

std::string SurvivalDat(const std::vector<std::pair<double, double>>& points) {
  std::string out = "# seconds fraction_found\n";
  for (const auto& [t, f] : points) absl::StrAppendFormat(&out, "%.4f %.4f\n", t, f);
  return out;
}

std::string GnuplotScript(const std::vector<std::string>& targets, const std::vector<std::string>& strategies,
                          double cap, double start) {
  std::string out = absl::StrFormat(
      "# Survival curves of reclaimfuzz bench: gnuplot survival.gp -> survival.png\n"
      "set terminal pngcairo size %d,460 font 'sans,10'\n"
      "set output 'survival.png'\n"
      "set multiplot layout 1,%d title 'fraction of runs that found the bug vs time'\n"
      "set logscale x\n"
      "set xrange [%g:%g]\n"
      "set yrange [0:1.05]\n"
      "set xlabel 'seconds (log)'\n"
      "set ylabel 'fraction found'\n"
      "set key top left\n"
      "set grid\n",
      440 * std::max<size_t>(targets.size(), 1), std::max<size_t>(targets.size(), 1), start, cap);
  for (const std::string& id : targets) {
    const Target* t = FindTarget(id);
    absl::StrAppend(
        &out, "set title \"", id,
        t ? absl::StrCat(" on ", storage::VariantName(t->variant), "\\n", absl::StrJoin(t->names, " | ")) : "", "\"\n");
    std::vector<std::string> plots;
    for (const std::string& s : strategies) {
      plots.push_back(absl::StrCat("'survival-", id, "-", s, ".dat' using 1:2 with steps lw 2 title '", s, "'"));
    }
    absl::StrAppend(&out, "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  }
  absl::StrAppend(&out, "unset multiplot\n");
  return out;
}

}  // namespace reclaimfuzz::cli::bench
