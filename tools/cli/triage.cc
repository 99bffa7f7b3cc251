// SPDX-License-Identifier: MIT
#include "tools/cli/triage.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <tuple>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "engine/check/report.h"
#include "engine/sched/trace.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/flags.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

namespace {

// "freed 55 steps after step 63" -> "freed N steps after step N".
std::string WithoutNumbers(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      while (i + 1 < s.size() &&
             absl::ascii_isxdigit(static_cast<unsigned char>(s[i + 1])))
        ++i;
      out += 'N';
    } else {
      out += s[i];
    }
  }
  return out;
}

// Runs `p` on `v` in a child process and returns (finding, first bad
// frame): a crash file may be one the oracles do not stop (an ASan-only
// stale access, a list corrupted past what the checks see), which would
// take this process down with it. A child that dies gives "crash (signal
// N)" or "crash (exit N)".
std::pair<std::string, std::string> RunInChild(const fuzz::Program& p, storage::Variant v) {
  int fds[2];
  if (pipe(fds) != 0) {
    const fuzz::RunResult r = RunOnce(p, v);
    return {r.finding, FirstBadFrame()};
  }
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const fuzz::RunResult r = RunOnce(p, v);
    const std::string line = absl::StrCat(r.finding, "\t", FirstBadFrame());
    ssize_t off = 0;
    while (off < static_cast<ssize_t>(line.size())) {
      const ssize_t n = write(fds[1], line.data() + off, line.size() - off);
      if (n <= 0) break;
      off += n;
    }
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; pid > 0 && (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return {"crash (could not fork)", "-"};
  if (WIFSIGNALED(status)) return {absl::StrCat("crash (signal ", WTERMSIG(status), ")"), "-"};
  const size_t tab = got.find('\t');
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || tab == std::string::npos) {
    return {absl::StrCat("crash (exit ", WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")"), "-"};
  }
  return {got.substr(0, tab), got.substr(tab + 1)};
}

}  // namespace

std::string FirstBadFrame() {
  const check::Finding* f = check::LastFinding();
  if (f == nullptr) return "-";
  // A reclamation finding (reader-saw-freed, early-free) names the function
  // that freed the object: that, not the trace's last label, tells two
  // frees apart (map_free's drain_mem_cache from a deferred work's kfree).
  const std::string first_line = std::string(f->detail).substr(0, std::string(f->detail).find('\n'));
  if (const size_t at = first_line.find(" freed by "); at != std::string::npos) {
    const size_t from = at + strlen(" freed by ");
    const size_t to = first_line.find_first_of(" (,;", from);
    const std::string fn = first_line.substr(from, to == std::string::npos ? std::string::npos : to - from);
    if (!fn.empty()) return "freed by " + fn;
  }
  // A context rule names the call and the context ("call_rcu_tasks_trace()
  // called from NMI context (not NMI-safe)"): that is the bug, wherever the
  // interrupted code happened to be.
  if (strcmp(f->name, "context-violation") == 0 || strcmp(f->name, "invalid-wait-context") == 0) {
    const std::string what = first_line.substr(0, first_line.find(" ("));
    if (!what.empty()) return WithoutNumbers(what.size() > 60 ? what.substr(0, 57) + "..." : what);
  }
  const std::vector<sched::Event> events =
      fuzz::LastScheduler().trace().Events();
  // The finding's own mark, then the event before it in the same context.
  int at = -1;
  for (int i = static_cast<int>(events.size()) - 1; i >= 0; --i) {
    const sched::Event& e = events[i];
    if ((e.kind == sched::EventKind::kNote ||
         e.kind == sched::EventKind::kFinding) &&
        e.label != nullptr && strcmp(e.label, f->name) == 0) {
      at = i;
      break;
    }
  }
  for (int i = at - 1; at >= 0 && i >= 0; --i) {
    const sched::Event& e = events[i];
    if (e.task != events[at].task || e.depth != events[at].depth) continue;
    if (e.kind != sched::EventKind::kPoint && e.kind != sched::EventKind::kNote)
      continue;
    if (e.label == nullptr || e.label[0] == '\0') continue;
    return e.label;
  }
  std::string detail = f->detail;
  detail = detail.substr(0, detail.find('\n'));
  if (detail.size() > 60) detail = detail.substr(0, 57) + "...";
  return WithoutNumbers(detail);
}

std::optional<storage::Variant> VariantFromPath(const std::string& root,
                                                const std::string& path) {
  const fs::path base = fs::path(root).lexically_normal();
  fs::path dir = fs::path(path).lexically_normal().parent_path();
  // Nearest folder first, up to and including `root` itself.
  for (; !dir.empty(); dir = dir.parent_path()) {
    std::string name = dir.filename().string();
    if (name.empty()) break;
    for (storage::Variant v : storage::AllVariants()) {
      if (name == FuzzTargetName(v) || name == storage::VariantName(v))
        return v;
    }
    if (dir == base || dir == dir.parent_path()) break;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<TriageGroup>> TriageDir(
    const std::string& dir, const std::vector<storage::Variant>& variants,
    int* files) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return absl::InvalidArgumentError(absl::StrCat(dir, ": not a directory"));
  std::vector<std::string> paths;
  fs::recursive_directory_iterator it(
      dir, fs::directory_options::skip_permission_denied, ec);
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", dir, ": ", ec.message()));
  for (const fs::recursive_directory_iterator end; it != end;
       it.increment(ec)) {
    if (ec)
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read ", dir, ": ", ec.message()));
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    // Not inputs: logs, the campaign's table, notes.
    if (!it->is_regular_file(ec) || absl::StrContains(name, ".log") ||
        name == "verdict.txt" || absl::EndsWith(name, ".md") ||
        absl::EndsWith(name, ".tsv")) {
      continue;
    }
    paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());  // deterministic examples
  if (files != nullptr) *files = static_cast<int>(paths.size());

  std::map<std::tuple<std::string, std::string, std::string>, TriageGroup>
      groups;
  auto add = [&](const std::string& variant, const std::string& finding,
                 const std::string& frame, const std::string& path,
                 uint64_t size) {
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
    absl::StatusOr<fuzz::Program> p =
        bytes.ok() ? DecodeProgram(path, *bytes) : bytes.status();
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
      const auto [finding, frame] = RunInChild(*p, v);
      add(storage::VariantName(v), finding, frame, path, bytes->size());
    }
  }
  std::vector<TriageGroup> out;
  for (auto& [key, g] : groups) out.push_back(g);
  std::stable_sort(out.begin(), out.end(),
                   [](const TriageGroup& a, const TriageGroup& b) {
                     if (a.variant != b.variant) return a.variant < b.variant;
                     if ((a.finding == "none") != (b.finding == "none"))
                       return b.finding == "none";
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
      absl::StrFormat("%-*s  %-*s  %-*s  %5s  %s\n", wv, "variant", wf,
                      "finding", wr, "first bad frame", "count", "example");
  for (const TriageGroup& g : groups) {
    std::string frame =
        g.frame.size() > 48 ? g.frame.substr(0, 45) + "..." : g.frame;
    absl::StrAppendFormat(&out, "%-*s  %-*s  %-*s  %5d  %s\n", wv, g.variant,
                          wf, g.finding, wr, frame, g.count, g.example);
  }
  return out;
}

int TriageMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("triage", args, out, err, &parsed); rc >= 0) return rc;
  std::vector<storage::Variant> variants;
  if (!absl::GetFlag(FLAGS_variant).empty()) {
    absl::StatusOr<std::vector<storage::Variant>> v =
        ParseVariantList(absl::GetFlag(FLAGS_variant));
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
  absl::StatusOr<std::vector<TriageGroup>> groups =
      TriageDir(parsed.positional[0], variants, &files);
  if (!groups.ok()) {
    err << "reclaimfuzz triage: " << groups.status().message() << "\n";
    return kExitUsage;
  }
  out << FormatTriageTable(*groups);
  int bugs = 0;
  for (const TriageGroup& g : *groups)
    bugs += g.finding != "none" && g.finding != "invalid-input";
  out << files << " files, " << groups->size() << " groups, " << bugs
      << " with a finding\n";
  return kExitOk;
}

}  // namespace reclaimfuzz::cli
