// SPDX-License-Identifier: MIT
#include "engine/report/report.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::check {
namespace {

OnFinding g_mode = OnFinding::kAbort;
const char* g_variant = "";
ObjectDescriber g_describer = nullptr;
Finding g_finding;
bool g_has_finding = false;

}  // namespace

void SetOnFinding(OnFinding mode) { g_mode = mode; }
OnFinding GetOnFinding() { return g_mode; }
void SetReportVariant(const char* variant) { g_variant = variant; }
namespace {
const char* g_settings = "";
}  // namespace
void SetReportSettings(const char* settings) { g_settings = settings; }
const char* ReportSettings() { return g_settings; }
void SetObjectDescriber(ObjectDescriber fn) { g_describer = fn; }
const Finding* LastFinding() { return g_has_finding ? &g_finding : nullptr; }
void ClearFinding() { g_has_finding = false; }

namespace {

[[noreturn]] void VReport(const char* name, int64_t object_id, const char* key, const char* fmt, va_list ap) {
  sched::Scheduler* s = sched::Scheduler::Current();
  // Only the first finding of an execution counts: oracles that fire while
  // the execution is being stopped (teardown after a stop) are consequences.
  if (!g_has_finding) {
    g_has_finding = true;
    snprintf(g_finding.name, sizeof(g_finding.name), "%s", name);
    snprintf(g_finding.key, sizeof(g_finding.key), "%s", key);
    vsnprintf(g_finding.detail, sizeof(g_finding.detail), fmt, ap);
    g_finding.step = s ? s->step() : 0;
    g_finding.task = s ? s->current_task() : -1;
    g_finding.vcpu = s ? s->current_vcpu() : -1;
    g_finding.depth = s ? s->current_depth() : 0;
    g_finding.object_id = object_id;
    if (s) s->Note(name, object_id);
  }
  if (g_mode == OnFinding::kAbort) {
    const std::string report = FormatReport();
    fwrite(report.data(), 1, report.size(), stderr);
    fflush(stderr);
    abort();
  }
  if (s) s->Abandon(name);
  fprintf(stderr, "reclaimfuzz: finding outside any execution:\n%s", FormatReport().c_str());
  abort();
}

}  // namespace

void Report(const char* name, int64_t object_id, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  VReport(name, object_id, "", fmt, ap);
}

void ReportKeyed(const char* name, int64_t object_id, const char* key, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  VReport(name, object_id, key, fmt, ap);
}

std::string FormatReport() {
  if (!g_has_finding) return "finding: none\n";
  const Finding& f = g_finding;
  std::string out;
  absl::StrAppend(&out, "==== reclaimfuzz report ====\n");
  absl::StrAppend(&out, "variant: ", g_variant[0] ? g_variant : "(none)", "\n");
  if (g_settings[0]) absl::StrAppend(&out, "settings: ", g_settings, "\n");
  absl::StrAppend(&out, "finding: ", f.name, " at step ", f.step);
  sched::Scheduler* s = sched::Scheduler::Current();
  if (s != nullptr && f.task >= 0 && f.task < s->num_tasks()) {
    absl::StrAppend(&out, " in ", s->task(f.task).name);
    if (f.depth == 2) absl::StrAppend(&out, " (NMI)");
    if (f.depth == 1) absl::StrAppend(&out, " (hardirq)");
    if (f.vcpu >= 0) absl::StrAppend(&out, " on cpu", f.vcpu);
  }
  absl::StrAppend(&out, "\n", f.detail, "\n");
  if (f.object_id >= 0 && g_describer != nullptr) absl::StrAppend(&out, g_describer(f.object_id));
  if (s != nullptr) {
    absl::StrAppend(&out, "schedule: ", s->step(), " steps\n");
    absl::StrAppend(&out, s->Timeline(60));
  }
  // Last line, machine-readable.
  absl::StrAppend(&out, "finding: ", f.name, "\n");
  return out;
}

}  // namespace reclaimfuzz::check
