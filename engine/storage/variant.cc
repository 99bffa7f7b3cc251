// SPDX-License-Identifier: MIT
#include "engine/storage/variant.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace reclaimfuzz::storage {

const char* VariantName(Variant v) {
  switch (v) {
    case Variant::kV4:
      return "v4";
    case Variant::kV4SrcuFix:
      return "v4-srcu-fix";
    case Variant::kAlwaysDeferV1:
      return "always-defer-v1";
    case Variant::kAlwaysDeferFixed:
      return "always-defer-fixed";
    case Variant::kLinux61:
      return "linux-6.1";
    case Variant::kLinux612:
      return "linux-6.12";
    case Variant::kUserTree:
      return "tree";
  }
  return "?";
}

std::string VariantIdent(Variant v) {
  std::string s = VariantName(v);
  for (char& c : s) {
    if (c == '-' || c == '.') c = '_';
  }
  return s;
}

absl::StatusOr<Variant> ParseVariant(absl::string_view name) {
  for (Variant v : kAllVariants) {
    if (name == VariantName(v)) return v;
  }
  std::string known;
  for (Variant v : kAllVariants) absl::StrAppend(&known, known.empty() ? "" : ", ", VariantName(v));
  return absl::InvalidArgumentError(
      absl::StrCat("unknown variant '", name, "' (known: ", known, ")"));
}

rcu::Settings RcuSettingsFor(Variant v) {
  rcu::Settings s;
  s.trace_implies_rcu_gp = true;
  switch (v) {
    case Variant::kV4:
    case Variant::kAlwaysDeferV1:
      s.trace_gp_start = rcu::Settings::TraceGpStart::kSrcuSpinlock;
      break;
    case Variant::kV4SrcuFix:
    case Variant::kAlwaysDeferFixed:
      s.trace_gp_start = rcu::Settings::TraceGpStart::kSrcuRawIrqWork;
      break;
    case Variant::kLinux61:
    case Variant::kLinux612:
    case Variant::kUserTree:
      // Before v7.0 Tasks Trace is not on SRCU: call_rcu_tasks_trace() takes
      // a raw lock and wakes its kthread through irq_work, and its grace
      // period ends with synchronize_rcu() (rcu_tasks_trace_postscan).
      s.trace_gp_start = rcu::Settings::TraceGpStart::kSrcuRawIrqWork;
      break;
  }
  return s;
}

sched::PreemptModel PreemptModelFor(Variant v) {
  return IsRealTree(v) ? sched::PreemptModel::kVoluntary : sched::PreemptModel::kFull;
}

}  // namespace reclaimfuzz::storage
