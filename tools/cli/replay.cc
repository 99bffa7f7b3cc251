// SPDX-License-Identifier: MIT
#include "tools/cli/replay.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/check/report.h"
#include "engine/kernel/slab.h"
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
    o.on_finding = check::OnFinding::kStop;
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

ReplayResult CaptureReplay(const fuzz::Program& p, storage::Variant v,
                           int rows) {
  ReplayResult out;
  out.variant = v;
  if (absl::Status st = fuzz::CheckProgramFor(p, v); !st.ok()) {
    // The fuzz targets run such inputs with every map and owner read as a
    // task's; say so rather than change the program silently.
    fprintf(stderr, "reclaimfuzz replay: note: %s; run as task storage, as the fuzz target does\n",
            std::string(st.message()).c_str());
  }
  out.program_text = fuzz::FormatText(AsTargetsRun(p, v));
  const fuzz::RunResult r = RunOnce(p, v, /*record_schedule=*/true);
  sched::Scheduler& s = fuzz::LastScheduler();
  out.finding = r.finding;
  out.status = r.status;
  out.steps = r.steps;
  out.trace_hash = r.trace_hash;
  out.decisions = s.schedule().size();
  out.num_vcpus = s.num_vcpus();
  out.task_names = s.TaskNames();
  for (const sched::Event& e : s.trace().Events()) {
    out.events.push_back({e.step, e.arg, e.label ? e.label : "", e.kind,
                          e.task, e.vcpu, e.depth});
  }
  out.total_events = s.trace().total();
  auto task_name = [&](int t) -> std::string {
    return t >= 0 && t < s.num_tasks() ? s.task(t).name : "main";
  };
  if (const check::Finding* f = check::LastFinding();
      f != nullptr && r.finding != "none") {
    out.detail = f->detail;
    out.finding_step = f->step;
    out.finding_task = f->task >= 0 ? task_name(f->task) : "";
    out.finding_vcpu = f->vcpu;
    out.finding_depth = f->depth;
    if (const kernel::slab::Object* o = kernel::slab::Get(f->object_id)) {
      ReplayObject obj;
      obj.id = o->id;
      obj.type = o->type;
      obj.size = o->size;
      obj.allocator = o->nolock ? "kmalloc_nolock" : "kzalloc";
      obj.alloc_site = o->alloc_site;
      obj.alloc_step = o->alloc_step;
      obj.alloc_task = task_name(o->alloc_task);
      obj.freed = o->freed;
      if (o->freed) {
        obj.free_site = o->free_site;
        obj.free_step = o->free_step;
        obj.free_task = task_name(o->free_task);
        obj.free_depth = o->free_depth;
      }
      out.object = std::move(obj);
    }
    // The report names variant, finding, first bad step and sites, holds
    // the timeline, and ends with "finding: <name>"; the settings the
    // finding needs go just before that line.
    out.text = check::FormatReport();
    out.needs = NeededSettings(p, v, r.finding);
    const size_t last = out.text.rfind("finding: ");
    if (last != std::string::npos && !out.needs.empty()) {
      out.text.insert(last, "settings needed: " + out.needs + "\n");
    }
    return out;
  }
  out.text = absl::StrFormat(
      "variant: %s\nstatus: %s after %d steps, %d scheduling decisions, trace "
      "hash %016x\n",
      storage::VariantName(v), sched::RunStatusName(r.status), r.steps,
      s.schedule().size(), r.trace_hash);
  out.text += s.Timeline(static_cast<size_t>(rows > 0 ? rows : 1));
  out.text += "finding: none\n";
  return out;
}

namespace {

void NoteIgnoredSetting(const fuzz::Program& p, std::ostream& out) {
  if (!p.trace_implies_rcu_gp) {
    out << "note: 'trace_implies_rcu_gp off' is ignored: programs run as the "
           "fuzz targets run them (on)\n";
  }
}

}  // namespace

std::string ReplayProgram(const fuzz::Program& p, storage::Variant v, int rows,
                          std::ostream& out) {
  NoteIgnoredSetting(p, out);
  const ReplayResult r = CaptureReplay(p, v, rows);
  out << r.text;
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
    NoteIgnoredSetting(programs[0], out);
    ReplayResult r = CaptureReplay(programs[0], *v, absl::GetFlag(FLAGS_rows));
    r.source = parsed.positional[0];
    out << r.text;
    out.flush();
    if (absl::Status s = WriteHtmlReport(r, html); !s.ok()) {
      err << "reclaimfuzz replay: " << s.message() << "\n";
      return kExitUsage;
    }
    err << "reclaimfuzz replay: wrote " << html << "\n";
    return r.finding != "none" ? kExitFinding : kExitOk;
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
