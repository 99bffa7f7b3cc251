// The fuzz target of one engine variant (RF_VARIANT, set by the build):
// storage_v4_fuzz, storage_v4_srcu_fix_fuzz, storage_always_defer_v1_fuzz,
// storage_always_defer_fixed_fuzz. Usable by libFuzzer and by AFL++.
//
// Input: the binary program form (encoding_binary.cc). A finding prints the
// report (variant, finding, sites, timeline, "finding: <name>") and aborts,
// so both fuzzers save the input and -minimize_crash / afl-tmin keep it.
//
// RECLAIMFUZZ_ABORT_ON=name,name,...  only these findings abort; the others
//     are counted and ignored (the benchmark times each finding on its own).
//     Unset or empty: every finding aborts.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/check/report.h"
#include "fuzz/features.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"

#ifndef RF_VARIANT
#error "RF_VARIANT must name the engine variant"
#endif

namespace {

using reclaimfuzz::fuzz::FeatureChoice;

const std::vector<std::string>& AbortOn() {
  static const std::vector<std::string>* list = [] {
    auto* v = new std::vector<std::string>();
    if (const char* env = getenv("RECLAIMFUZZ_ABORT_ON"); env != nullptr) {
      for (absl::string_view s : absl::StrSplit(env, ',', absl::SkipEmpty())) v->emplace_back(s);
    }
    return v;
  }();
  return *list;
}

bool Aborts(const std::string& finding) {
  const auto& list = AbortOn();
  if (list.empty()) return true;
  for (const std::string& f : list) {
    if (f == finding) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const reclaimfuzz::storage::Variant variant = [] {
    absl::StatusOr<reclaimfuzz::storage::Variant> v = reclaimfuzz::storage::ParseVariant(RF_VARIANT);
    if (!v.ok()) {
      fprintf(stderr, "reclaimfuzz: %s\n", v.status().ToString().c_str());
      abort();
    }
    return *v;
  }();
  reclaimfuzz::fuzz::Program p = reclaimfuzz::fuzz::DecodeBinary(absl::MakeConstSpan(data, size));
  // rcu_trace_implies_rcu_gp() is always true in the kernels modelled (an
  // official guarantee since Tasks Trace runs on SRCU-fast), and V4's free
  // path relies on it; turning it off makes every V4-based variant free
  // early by construction, which is not a finding about the variant.
  p.trace_implies_rcu_gp = true;
  static reclaimfuzz::sched::BytesChoice schedule;
  schedule.SetEvents(p.schedule);
  FeatureChoice features(&schedule);
  reclaimfuzz::fuzz::RunOptions o;
  o.variant = variant;
  o.choice = &features;
  o.on_finding = reclaimfuzz::check::OnFinding::kStop;
  o.trace_capacity = 1 << 10;  // enough for a report's timeline
  const reclaimfuzz::fuzz::RunResult r = reclaimfuzz::fuzz::RunProgram(p, o);
  if (r.finding != "none" && Aborts(r.finding)) {
    const std::string report = reclaimfuzz::check::FormatReport();
    fwrite(report.data(), 1, report.size(), stderr);
    fflush(stderr);
    abort();
  }
  return 0;
}
