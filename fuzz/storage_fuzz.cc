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
// RECLAIMFUZZ_IGNORE=name,name,...  these findings are counted and ignored
//     (a campaign mutes the findings it has already seen this way).
//
// With libFuzzer a custom mutator knows the format: most of the time it
// edits the schedule (adds an event at a step inside the last run, moves
// one, changes its option, drops one), the rest of the time it hands the
// bytes to libFuzzer's own mutators. A bug like B1 needs one interrupt
// delivered within a few steps of one point: byte-level mutations rarely
// grow the schedule region (its count is the last byte), this does.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/check/report.h"
#include "fuzz/features.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "engine/sched/prng.h"

#ifndef RF_VARIANT
#error "RF_VARIANT must name the engine variant"
#endif

namespace {

using reclaimfuzz::fuzz::FeatureChoice;

std::vector<std::string> EnvList(const char* name) {
  std::vector<std::string> v;
  if (const char* env = getenv(name); env != nullptr) {
    for (absl::string_view s : absl::StrSplit(env, ',', absl::SkipEmpty())) v.emplace_back(s);
  }
  return v;
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  for (const std::string& f : list) {
    if (f == s) return true;
  }
  return false;
}

bool Aborts(const std::string& finding) {
  static const std::vector<std::string> abort_on = EnvList("RECLAIMFUZZ_ABORT_ON");
  static const std::vector<std::string> ignore = EnvList("RECLAIMFUZZ_IGNORE");
  if (Contains(ignore, finding)) return false;
  return abort_on.empty() || Contains(abort_on, finding);
}

// Steps of the last execution: where new schedule events are worth placing.
uint64_t g_last_steps = 0;

}  // namespace

#ifdef RF_LIBFUZZER
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  reclaimfuzz::sched::SplitMix64 rng(seed);
  if (rng.OneIn(3)) return LLVMFuzzerMutate(data, size, max_size);
  reclaimfuzz::fuzz::Program p = reclaimfuzz::fuzz::DecodeBinary(absl::MakeConstSpan(data, size));
  auto& events = p.schedule;
  const uint64_t horizon = g_last_steps > 16 ? g_last_steps : 16;
  switch (rng.Below(4)) {
    case 0:  // a new decision somewhere in the run
      events.push_back({1 + rng.Below(horizon), static_cast<uint8_t>(rng.Below(8))});
      break;
    case 1:  // move one a little
      if (!events.empty()) {
        auto& e = events[rng.Below(events.size())];
        const int64_t delta = static_cast<int64_t>(rng.Below(17)) - 8;
        e.step = static_cast<uint64_t>(std::max<int64_t>(1, static_cast<int64_t>(e.step) + delta));
      }
      break;
    case 2:  // take another option there
      if (!events.empty()) events[rng.Below(events.size())].action = static_cast<uint8_t>(rng.Below(8));
      break;
    case 3:  // drop one
      if (!events.empty()) events.erase(events.begin() + static_cast<long>(rng.Below(events.size())));
      break;
  }
  reclaimfuzz::fuzz::Normalize(p);
  const std::vector<uint8_t> out = reclaimfuzz::fuzz::EncodeBinary(p);
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::copy(out.begin(), out.end(), data);
  return out.size();
}
#endif  // RF_LIBFUZZER

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
  reclaimfuzz::fuzz::AsFuzzTargetsRun(p);
  static reclaimfuzz::sched::BytesChoice schedule;
  schedule.SetEvents(p.schedule);
  FeatureChoice features(&schedule);
  reclaimfuzz::fuzz::RunOptions o;
  o.variant = variant;
  o.choice = &features;
  o.on_finding = reclaimfuzz::check::OnFinding::kStop;
  o.trace_capacity = 1 << 10;  // enough for a report's timeline
  const reclaimfuzz::fuzz::RunResult r = reclaimfuzz::fuzz::RunProgram(p, o);
  g_last_steps = r.steps;
  if (r.finding != "none" && Aborts(r.finding)) {
    const std::string report = reclaimfuzz::check::FormatReport();
    fwrite(report.data(), 1, report.size(), stderr);
    fflush(stderr);
    abort();
  }
  return 0;
}
