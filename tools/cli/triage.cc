// SPDX-License-Identifier: MIT
#include "tools/cli/triage.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <tuple>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "engine/sched/trace.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/flags.h"
#include "tools/cli/target_replay.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

namespace {

// "freed 55 steps after step 63" -> "freed N steps after step N".
std::string WithoutNumbers(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      while (i + 1 < s.size() && absl::ascii_isxdigit(static_cast<unsigned char>(s[i + 1]))) ++i;
      out += 'N';
    } else {
      out += s[i];
    }
  }
  return out;
}

// Runs `p` on `v` in a child process (FindingInChild) and returns
// (finding, where): a crash file may be one the oracles do not stop (an
// ASan-only stale access, a list corrupted past what the checks see),
// which would take this process down with it. When the child dies and the
// variant's ASan fuzz target is built, the target replays the file and
// names the sanitizer's finding (target_replay.h); otherwise the row says
// how the child died ("crash (signal 11)").
std::pair<std::string, std::string> RunInChild(const fuzz::Program& p, storage::Variant v, const std::string& path) {
  absl::StatusOr<fuzz::Finding> f = FindingInChild(p, v);
  if (f.ok()) return {f->name, f->any() ? f->where : "-"};
  const std::string target = AsanTargetFor(v);
  if (!target.empty()) {
    absl::StatusOr<fuzz::Execution> e = ReplayOnTarget(target, path);
    if (e.ok() && e->finding.any()) return {e->finding.name, e->finding.where};
  }
  return {std::string(f.status().message()), "-"};
}

}  // namespace

std::optional<storage::Variant> VariantFromPath(const std::string& root, const std::string& path) {
  const fs::path base = fs::path(root).lexically_normal();
  fs::path dir = fs::path(path).lexically_normal().parent_path();
  // Nearest folder first, up to and including `root` itself.
  for (; !dir.empty(); dir = dir.parent_path()) {
    std::string name = dir.filename().string();
    if (name.empty()) break;
    for (storage::Variant v : storage::AllVariants()) {
      if (name == FuzzTargetName(v) || name == storage::VariantName(v)) return v;
    }
    if (dir == base || dir == dir.parent_path()) break;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<TriageGroup>> TriageDir(const std::string& dir,
                                                   const std::vector<storage::Variant>& variants, int* files) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::InvalidArgumentError(absl::StrCat(dir, ": not a directory"));
  std::vector<std::string> paths;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot read ", dir, ": ", ec.message()));
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot read ", dir, ": ", ec.message()));
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    // Not inputs: logs, the campaign's table, notes.
    if (!it->is_regular_file(ec) || absl::StrContains(name, ".log") || name == "verdict.txt" ||
        absl::EndsWith(name, ".md") || absl::EndsWith(name, ".tsv")) {
      continue;
    }
    paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());  // deterministic examples
  if (files != nullptr) *files = static_cast<int>(paths.size());

  std::map<std::tuple<std::string, std::string, std::string>, TriageGroup> groups;
  auto add = [&](const std::string& variant, const std::string& finding, const std::string& frame,
                 const std::string& path, uint64_t size) {
    TriageGroup& g = groups[{variant, finding, frame}];
    if (g.count++ == 0 || size < g.example_size) {
      g.example = path;
      g.example_size = size;
    }
    g.variant = variant;
    g.finding = finding;
    g.frame = frame;
  };
  for (const std::string& path : paths) {
    std::vector<storage::Variant> run_on = variants;
    if (run_on.empty()) {
      if (std::optional<storage::Variant> v = VariantFromPath(dir, path)) {
        run_on = {*v};
      } else {
        run_on = *ParseVariantList("all");  // the variants this build has
      }
    }
    absl::StatusOr<std::string> bytes = ReadFile(path);
    absl::StatusOr<fuzz::Program> p = bytes.ok() ? DecodeProgram(path, *bytes) : bytes.status();
    if (!p.ok()) {
      // Grouped by the error without its position, so one kind of damage
      // is one row.
      absl::string_view why = p.status().message();
      if (absl::StartsWith(why, path)) why.remove_prefix(path.size());
      why = absl::StripLeadingAsciiWhitespace(absl::StripPrefix(why, ":"));
      std::string frame = WithoutNumbers(why);
      for (char& c : frame) {
        if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
      }
      add("-", "invalid-input", frame, path, 0);
      continue;
    }
    for (storage::Variant v : run_on) {
      const auto [finding, frame] = RunInChild(*p, v, path);
      add(storage::VariantName(v), finding, frame, path, bytes->size());
    }
  }
  std::vector<TriageGroup> out;
  for (auto& [key, g] : groups) out.push_back(g);
  std::stable_sort(out.begin(), out.end(), [](const TriageGroup& a, const TriageGroup& b) {
    if (a.variant != b.variant) return a.variant < b.variant;
    if ((a.finding == "none") != (b.finding == "none")) return b.finding == "none";
    return a.count > b.count;
  });
  return out;
}

std::string FormatTriageTable(const std::vector<TriageGroup>& groups) {
  size_t wv = 7, wf = 7, wr = 15;
  for (const TriageGroup& g : groups) {
    wv = std::max(wv, g.variant.size());
    wf = std::max(wf, g.finding.size());
    wr = std::max(wr, std::min<size_t>(g.frame.size(), 48));
  }
  std::string out =
      absl::StrFormat("%-*s  %-*s  %-*s  %5s  %s\n", wv, "variant", wf, "finding", wr, "where", "count", "example");
  for (const TriageGroup& g : groups) {
    std::string frame = g.frame.size() > 48 ? g.frame.substr(0, 45) + "..." : g.frame;
    absl::StrAppendFormat(&out, "%-*s  %-*s  %-*s  %5d  %s\n", wv, g.variant, wf, g.finding, wr, frame, g.count,
                          g.example);
  }
  return out;
}

int TriageMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("triage", args, out, err, &parsed); rc >= 0) return rc;
  std::vector<storage::Variant> variants;
  if (!absl::GetFlag(FLAGS_variant).empty()) {
    absl::StatusOr<std::vector<storage::Variant>> v = ParseVariantList(absl::GetFlag(FLAGS_variant));
    if (!v.ok()) {
      err << "reclaimfuzz triage: " << v.status().message() << "\n";
      return kExitUsage;
    }
    variants = *v;
  }
  if (parsed.positional.size() != 1) {
    err << "reclaimfuzz triage: expected one DIR (usage: reclaimfuzz triage "
           "[--variant V,...] DIR)\n";
    return kExitUsage;
  }
  int files = 0;
  absl::StatusOr<std::vector<TriageGroup>> groups = TriageDir(parsed.positional[0], variants, &files);
  if (!groups.ok()) {
    err << "reclaimfuzz triage: " << groups.status().message() << "\n";
    return kExitUsage;
  }
  out << FormatTriageTable(*groups);
  int bugs = 0;
  for (const TriageGroup& g : *groups) bugs += g.finding != "none" && g.finding != "invalid-input";
  out << files << " files, " << groups->size() << " groups, " << bugs << " with a finding\n";
  return kExitOk;
}

}  // namespace reclaimfuzz::cli
