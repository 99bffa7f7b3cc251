// SPDX-License-Identifier: MIT
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
// RECLAIMFUZZ_IGNORE=name,name@where,...  these findings are counted and
//     ignored; "name@where" only the one with that where
//     (fuzz::Finding::where: "reader-saw-freed@freed by drain_mem_cache").
//     A campaign mutes the findings it has already seen this way.
// Built with RF_MUTE_KNOWN_FINDINGS (the CMake option; the OSS-Fuzz and
// ClusterFuzzLite build, tools/oss-fuzz/build.sh, sets it): the variant's
// known findings (engine/variants.txt, storage::Info(v).known) are ignored
// too, so continuous fuzzing, which cannot set the environment, reports
// only what is new. The ASan-class ones included: the reclamation oracles
// report at the free, before any stale access, and the execution stops
// there. The first of each muted finding prints one line.
// RECLAIMFUZZ_MUTE_KNOWN=0  in such a build, report them again.
// RECLAIMFUZZ_PREEMPT=voluntary|full|rt  the preemption model, instead of
//     the variant's (storage::PreemptModelFor()).
// RECLAIMFUZZ_FINDING_OUT=PATH  a finding (an oracle's, or a sanitizer's
//     from its death callback) is also written to PATH as JSON
//     (fuzz/sanitizer_report.h): how the front end names crashes.
// RECLAIMFUZZ_ORACLES=asan-only  the reclamation oracles (early-free,
//     reader-saw-freed) are off, so a stale access goes on to the ASan
//     report it leads to.
//
// With libFuzzer a custom mutator and crossover know the format
// (fuzz/mutator.h): they edit the program's structure (ops with operands
// that name declared maps and owners, ops copied into interrupt programs,
// tasks, vCPUs) or its schedule (an event at a step inside the last run,
// moved by a few steps, another option), and leave a share of mutations to
// libFuzzer's byte-level mutators. With libFuzzer the targets also default
// to -entropic=0 (LLVMFuzzerInitialize below).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/report/report.h"
#include "engine/sched/prng.h"
#include "engine/storage/variant.h"
#include "fuzz/features.h"
#include "fuzz/finding.h"
#include "fuzz/interpreter.h"
#include "fuzz/mutator.h"
#include "fuzz/program.h"
#include "fuzz/sanitizer_report.h"

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

// The variant's known findings, when this build mutes them.
std::vector<std::string> MutedKnown(reclaimfuzz::storage::Variant v) {
#ifdef RF_MUTE_KNOWN_FINDINGS
  const char* env = getenv("RECLAIMFUZZ_MUTE_KNOWN");
  if (env != nullptr && std::string(env) == "0") return {};
  return reclaimfuzz::storage::Info(v).known;
#else
  (void)v;
  return {};
#endif
}

bool Aborts(const std::string& finding, reclaimfuzz::storage::Variant variant) {
  static const std::vector<std::string> abort_on = EnvList("RECLAIMFUZZ_ABORT_ON");
  static const std::vector<std::string> ignore = EnvList("RECLAIMFUZZ_IGNORE");
  static const std::vector<std::string> known = MutedKnown(variant);
  if (Contains(ignore, finding)) return false;
  // "name@where" mutes one finding of a name, not another of the same name
  // (a second use-after-free in another function).
  const std::string keyed = finding + "@";
  for (const std::string& f : ignore) {
    if (f.compare(0, keyed.size(), keyed) == 0) {
      if (Contains(ignore, keyed + reclaimfuzz::fuzz::LastFinding(variant).where)) return false;
      break;
    }
  }
  if (Contains(known, finding)) {
    static std::vector<std::string> told;
    if (!Contains(told, finding)) {
      told.push_back(finding);
      fprintf(stderr, "reclaimfuzz: muted %s, a known finding of %s (RECLAIMFUZZ_MUTE_KNOWN=0 reports it)\n",
              finding.c_str(), reclaimfuzz::storage::VariantName(variant));
    }
    return false;
  }
  return abort_on.empty() || Contains(abort_on, finding);
}

// Steps of the last execution: where new schedule events are worth placing.
uint64_t g_last_steps = 0;
// Its schedule: wait_starts() tells where it began spin-waits.
reclaimfuzz::sched::BytesChoice g_schedule;

}  // namespace

#ifdef RF_LIBFUZZER
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return reclaimfuzz::fuzz::MutateInput(data, size, max_size, seed, g_last_steps, g_schedule.wait_starts(),
                                        &LLVMFuzzerMutate);
}

// libFuzzer's default power schedule (entropic) spends its energy on inputs
// with rare features, and the schedule-feature counters make many features
// rare: from an empty corpus B1 took a median 5.4 s with it and 1.0 s
// without (6 seeds each, the same machine, interleaved). So these targets
// run with -entropic=0 unless told otherwise: the flag goes first, and a
// flag given on the command line comes later and wins. libFuzzer calls this
// before it parses its flags, in every process of -fork and -merge too.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static char entropic_off[] = "-entropic=0";
  static std::vector<char*> args;
  args.assign(*argv, *argv + *argc);
  args.insert(args.begin() + (args.empty() ? 0 : 1), entropic_off);
  args.push_back(nullptr);
  *argc = static_cast<int>(args.size()) - 1;
  *argv = args.data();
  return 0;
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                                            uint8_t* out, size_t max_out_size, unsigned int seed) {
  return reclaimfuzz::fuzz::CrossOverInputs(data1, size1, data2, size2, out, max_out_size, seed);
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
  reclaimfuzz::fuzz::AsFuzzTargetsRun(p, variant);
  reclaimfuzz::sched::BytesChoice& schedule = g_schedule;
  schedule.SetEvents(p.schedule);
  FeatureChoice features(&schedule);
  reclaimfuzz::fuzz::RunOptions o;
  o.variant = variant;
  o.choice = &features;
  o.on_finding = reclaimfuzz::check::OnFinding::kStop;
  o.trace_capacity = 1 << 10;  // enough for a report's timeline
  // Functions and operations in the trace only when the execution will be
  // written (a replay naming a crash); fuzzing does not read them, and
  // keeping them made an execution a few percent dearer
  // (engine/vm/machine_bench, BM_LitmusExecution/1 against /0).
  static const bool written = getenv("RECLAIMFUZZ_FINDING_OUT") != nullptr;
  o.trace_context = written;
  static const bool asan_only = [] {
    const char* env = getenv("RECLAIMFUZZ_ORACLES");
    return env != nullptr && std::string(env) == "asan-only";
  }();
  static const std::optional<reclaimfuzz::sched::PreemptModel> preempt = [] {
    const char* env = getenv("RECLAIMFUZZ_PREEMPT");
    if (env == nullptr || *env == '\0') return std::optional<reclaimfuzz::sched::PreemptModel>();
    std::optional<reclaimfuzz::sched::PreemptModel> m = reclaimfuzz::sched::ParsePreemptModel(env);
    if (!m) {
      fprintf(stderr, "RECLAIMFUZZ_PREEMPT=%s: not voluntary, full or rt\n", env);
      abort();
    }
    return m;
  }();
  o.preempt = preempt;
  if (asan_only) {
    o.oracles.early_free = false;
    o.oracles.reader_saw_freed = false;
  }
  reclaimfuzz::fuzz::SetReportInput(&p, variant);
  const reclaimfuzz::fuzz::RunResult r = reclaimfuzz::fuzz::RunProgram(p, o);
  g_last_steps = r.steps;
  if (r.finding != "none" && Aborts(r.finding, variant)) {
    reclaimfuzz::fuzz::WriteOracleFinding(p, r, variant);
    const std::string report = reclaimfuzz::check::FormatReport();
    fwrite(report.data(), 1, report.size(), stderr);
    fflush(stderr);
    abort();
  }
  if (reclaimfuzz::fuzz::WriteSanitizerFindingAfterRun()) {
    fprintf(stderr, "reclaimfuzz: the ThreadSanitizer report above ends the replay (RECLAIMFUZZ_FINDING_OUT)\n");
    abort();
  }
  reclaimfuzz::fuzz::SetReportInput(nullptr, variant);
  // The machine threads' exit runs now, in this input's coverage: left to
  // the next input's reset, it would depend on this input there.
  reclaimfuzz::fuzz::ReleaseLastRun();
  return 0;
}
