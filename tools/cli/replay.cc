#include "tools/cli/replay.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "engine/check/report.h"
#include "fuzz/interpreter.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/flags.h"

namespace reclaimfuzz::cli {

std::string ReplayProgram(const fuzz::Program& p, storage::Variant v, int rows,
                          std::ostream& out) {
  if (!p.trace_implies_rcu_gp) {
    out << "note: 'trace_implies_rcu_gp off' is ignored: programs run as the "
           "fuzz targets run them (on)\n";
  }
  const fuzz::RunResult r = RunOnce(p, v, /*record_schedule=*/true);
  if (r.finding != "none") {
    // The report names variant, finding, first bad step and sites, holds
    // the timeline, and ends with "finding: <name>".
    out << check::FormatReport();
    return r.finding;
  }
  sched::Scheduler& s = fuzz::LastScheduler();
  out << absl::StrFormat(
      "variant: %s\nstatus: %s after %d steps, %d scheduling decisions, trace "
      "hash %016x\n",
      storage::VariantName(v), sched::RunStatusName(r.status), r.steps,
      s.schedule().size(), r.trace_hash);
  out << s.Timeline(static_cast<size_t>(rows > 0 ? rows : 1));
  out << "finding: none\n";
  return r.finding;
}

absl::StatusOr<std::string> ReplayFile(const std::string& path,
                                       storage::Variant v, int rows,
                                       std::ostream& out) {
  absl::StatusOr<fuzz::Program> p = LoadProgram(path);
  if (!p.ok()) return p.status();
  return ReplayProgram(*p, v, rows, out);
}

int ReplayMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("replay", args, out, err, &parsed); rc >= 0) return rc;
  if (absl::GetFlag(FLAGS_variant).empty()) {
    err << "reclaimfuzz replay: --variant is required (" << AllVariantNames()
        << ")\n";
    return kExitUsage;
  }
  absl::StatusOr<storage::Variant> v =
      ParseOneVariant(absl::GetFlag(FLAGS_variant));
  if (!v.ok()) {
    err << "reclaimfuzz replay: " << v.status().message() << "\n";
    return kExitUsage;
  }
  if (parsed.positional.empty()) {
    err << "reclaimfuzz replay: no input files (usage: reclaimfuzz replay "
           "--variant V FILE...)\n";
    return kExitUsage;
  }
  // Decode everything first, so bad input is reported before any run.
  std::vector<fuzz::Program> programs;
  for (const std::string& path : parsed.positional) {
    absl::StatusOr<fuzz::Program> p = LoadProgram(path);
    if (!p.ok()) {
      err << "reclaimfuzz replay: " << p.status().message() << "\n";
      return kExitUsage;
    }
    programs.push_back(*std::move(p));
  }
  bool any_finding = false;
  for (size_t i = 0; i < programs.size(); ++i) {
    if (programs.size() > 1)
      out << (i ? "\n" : "") << "==== " << parsed.positional[i] << " ====\n";
    any_finding |= ReplayProgram(programs[i], *v, absl::GetFlag(FLAGS_rows),
                                 out) != "none";
  }
  out.flush();
  return any_finding ? kExitFinding : kExitOk;
}

}  // namespace reclaimfuzz::cli
