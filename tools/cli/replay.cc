// SPDX-License-Identifier: MIT
#include "tools/cli/replay.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "fuzz/interpreter.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/flags.h"
#include "tools/cli/html_report.h"

namespace reclaimfuzz::cli {

std::string NeededSettings(const fuzz::Program& in, storage::Variant v, const std::string& finding) {
  const fuzz::Program p = AsTargetsRun(in, v);
  auto finds = [&](sched::PreemptModel preempt, bool allocation_failure) {
    fuzz::RunOptions o;
    o.variant = v;
    o.preempt = preempt;
    o.allocation_failure = allocation_failure;
    return fuzz::RunProgram(p, o).finding == finding;
  };
  const sched::PreemptModel model = PreemptFlag().value_or(storage::PreemptModelFor(v));
  const bool real = storage::IsRealTree(v);
  std::vector<std::string> needs;
  if (model != sched::PreemptModel::kVoluntary) {
    needs.push_back(finds(sched::PreemptModel::kVoluntary, real)
                        ? "voluntary preemption is enough"
                        : "full preemption (with voluntary preemption this input gives no such finding)");
  } else {
    needs.push_back("voluntary preemption (the variant's kernel configuration)");
  }
  if (real) {
    needs.push_back(finds(model, false) ? "no allocation failure"
                                        : "an allocation failure (without one this input gives no such finding)");
  }
  return absl::StrJoin(needs, "; ");
}

std::string FormatExecution(const fuzz::Execution& e, int rows, bool short_form) {
  const size_t n = static_cast<size_t>(rows > 0 ? rows : 1);
  const fuzz::Finding& f = e.finding;
  std::string out;
  if (!f.any()) {
    out = absl::StrFormat("variant: %s\nstatus: %s after %d steps, %d scheduling decisions, trace hash %016x\n",
                          e.variant, sched::RunStatusName(e.status), e.steps, e.decisions, e.trace_hash);
    out += e.Timeline(n, short_form);
    out += "finding: none\n";
    return out;
  }
  absl::StrAppend(&out, "==== reclaimfuzz report ====\n");
  absl::StrAppend(&out, "variant: ", e.variant, "\n");
  if (!e.settings.empty()) absl::StrAppend(&out, "settings: ", e.settings, "\n");
  absl::StrAppend(&out, "finding: ", f.name, " at step ", f.step);
  if (!f.task.empty()) {
    absl::StrAppend(&out, " in ", f.task, f.depth == 2 ? " (NMI)" : f.depth == 1 ? " (hardirq)" : "");
    if (f.vcpu >= 0) absl::StrAppend(&out, " on cpu", f.vcpu);
  }
  absl::StrAppend(&out, "\n");
  if (!f.where.empty()) absl::StrAppend(&out, "where: ", f.where, "\n");
  if (!f.function.empty()) absl::StrAppend(&out, "function: ", f.function, "\n");
  if (!f.op.empty()) absl::StrAppend(&out, "operation: ", f.op, "\n");
  if (f.source != "oracle")
    absl::StrAppend(&out, "reported by: ",
                    f.source == "asan"   ? "AddressSanitizer"
                    : f.source == "tsan" ? "ThreadSanitizer"
                                         : f.source,
                    "\n");
  absl::StrAppend(&out, f.detail, "\n");
  if (f.object.has_value()) {
    const fuzz::FindingObject& o = *f.object;
    absl::StrAppend(&out, o.type.empty() ? "object" : o.type, o.id >= 0 ? absl::StrCat(" #", o.id) : "", " (", o.size,
                    " bytes, ", o.allocator, ")\n");
    if (!o.alloc.function.empty()) {
      absl::StrAppend(&out, "  allocated by ", o.alloc.function);
      if (!o.alloc.task.empty()) absl::StrAppend(&out, " at step ", o.alloc.step, " in ", o.alloc.task);
      absl::StrAppend(&out, "\n");
    }
    if (o.freed) {
      absl::StrAppend(&out, "  freed by ", o.free.function);
      if (!o.free.task.empty()) {
        absl::StrAppend(&out, " at step ", o.free.step, " in ", o.free.task,
                        o.free.depth == 2   ? " (NMI)"
                        : o.free.depth == 1 ? " (hardirq)"
                                            : "");
      }
      absl::StrAppend(&out, "\n");
    } else {
      absl::StrAppend(&out, "  still live\n");
    }
  }
  absl::StrAppend(&out, "schedule: ", e.steps, " steps\n");
  absl::StrAppend(&out, e.Timeline(n, short_form));
  absl::StrAppend(&out, "finding: ", f.name, "\n");
  return out;
}

ReplayResult CaptureReplay(const fuzz::Program& p, storage::Variant v, int rows, bool short_form) {
  if (absl::Status st = fuzz::CheckProgramFor(p, v); !st.ok()) {
    // The fuzz targets run such inputs with every map and owner read as a
    // task's; say so rather than change the program silently.
    fprintf(stderr, "reclaimfuzz replay: note: %s; run as task storage, as the fuzz target does\n",
            std::string(st.message()).c_str());
  }
  const fuzz::Program as_run = AsTargetsRun(p, v);
  const fuzz::RunResult r = RunOnce(p, v, /*record_schedule=*/true);
  ReplayResult out;
  static_cast<fuzz::Execution&>(out) = fuzz::CaptureLastRun(as_run, r, v);
  if (out.finding.any()) out.needs = NeededSettings(p, v, r.finding);
  out.text = FormatExecution(out, rows, short_form);
  // The settings the finding needs go just before the last line.
  const size_t last = out.text.rfind("finding: ");
  if (last != std::string::npos && !out.needs.empty()) {
    out.text.insert(last, "settings needed: " + out.needs + "\n");
  }
  return out;
}

namespace {

// --short keeps 40 lines unless --rows asks for another number.
int RowsFor(int rows) { return absl::GetFlag(FLAGS_short) && rows == 80 ? 40 : rows; }

}  // namespace

std::string ReplayProgram(const fuzz::Program& p, storage::Variant v, int rows, std::ostream& out) {
  const ReplayResult r = CaptureReplay(p, v, RowsFor(rows), absl::GetFlag(FLAGS_short));
  out << r.text;
  return r.finding.name;
}

absl::StatusOr<std::string> ReplayFile(const std::string& path, storage::Variant v, int rows, std::ostream& out) {
  absl::StatusOr<fuzz::Program> p = LoadProgram(path);
  if (!p.ok()) return p.status();
  return ReplayProgram(*p, v, rows, out);
}

int ReplayMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("replay", args, out, err, &parsed); rc >= 0) return rc;
  if (absl::GetFlag(FLAGS_variant).empty()) {
    err << "reclaimfuzz replay: --variant is required (" << AllVariantNames() << ")\n";
    return kExitUsage;
  }
  absl::StatusOr<storage::Variant> v = ParseOneVariant(absl::GetFlag(FLAGS_variant));
  if (!v.ok()) {
    err << "reclaimfuzz replay: " << v.status().message() << "\n";
    return kExitUsage;
  }
  if (parsed.positional.empty()) {
    err << "reclaimfuzz replay: no input files (usage: reclaimfuzz replay "
           "--variant V FILE...)\n";
    return kExitUsage;
  }
  const std::string html = absl::GetFlag(FLAGS_html);
  if (!html.empty() && parsed.positional.size() != 1) {
    err << "reclaimfuzz replay: --html writes one page: give exactly one input "
           "file (got "
        << parsed.positional.size() << ")\n";
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
  if (!html.empty()) {
    ReplayResult r = CaptureReplay(programs[0], *v, RowsFor(absl::GetFlag(FLAGS_rows)), absl::GetFlag(FLAGS_short));
    r.source = parsed.positional[0];
    out << r.text;
    out.flush();
    if (absl::Status s = WriteHtmlReport(r, html); !s.ok()) {
      err << "reclaimfuzz replay: " << s.message() << "\n";
      return kExitUsage;
    }
    err << "reclaimfuzz replay: wrote " << html << "\n";
    return r.finding.any() ? kExitFinding : kExitOk;
  }
  bool any_finding = false;
  for (size_t i = 0; i < programs.size(); ++i) {
    if (programs.size() > 1) out << (i ? "\n" : "") << "==== " << parsed.positional[i] << " ====\n";
    any_finding |= ReplayProgram(programs[i], *v, absl::GetFlag(FLAGS_rows), out) != "none";
  }
  out.flush();
  return any_finding ? kExitFinding : kExitOk;
}

}  // namespace reclaimfuzz::cli
