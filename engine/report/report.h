// SPDX-License-Identifier: MIT
// Findings: the stable names of docs/design.md §4 and how one is reported.
//
// Report() records the finding, marks it in the trace, and then either
// prints the full report and aborts (the default: libFuzzer and AFL++ save
// the input) or stops the execution and returns control to the harness
// (OnFinding::kStop: tests, campaigns that keep going, the benchmark's
// "counted and ignored" findings). It never returns to the model code that
// found the problem.
//
// Signal safety: recording formats into preallocated buffers with vsnprintf
// and allocates nothing, so oracles may fire inside interrupt handlers.
#ifndef RECLAIMFUZZ_ENGINE_REPORT_REPORT_H_
#define RECLAIMFUZZ_ENGINE_REPORT_REPORT_H_

#include <cstdint>
#include <string>

namespace reclaimfuzz::check {

// Finding names. Reports, corpora and tests use these spellings.
inline constexpr const char* kUseAfterFree = "use-after-free";
inline constexpr const char* kDoubleFree = "double-free";
inline constexpr const char* kListCorruption = "list-corruption";
inline constexpr const char* kLostObject = "lost-object";
inline constexpr const char* kEarlyFree = "early-free";
inline constexpr const char* kReaderSawFreed = "reader-saw-freed";
inline constexpr const char* kInvalidWaitContext = "invalid-wait-context";
inline constexpr const char* kContextViolation = "context-violation";
inline constexpr const char* kLockOrder = "lock-order";
inline constexpr const char* kDeadlock = "deadlock";
inline constexpr const char* kHang = "hang";
inline constexpr const char* kAccounting = "accounting";
inline constexpr const char* kDataRace = "data-race";
// Invariants are reported as "invariant:<name>", e.g. "invariant:cache-linked".

enum class OnFinding : uint8_t {
  kAbort,  // print the report, then abort()
  kStop,   // stop the execution; the harness reads LastFinding()
};

void SetOnFinding(OnFinding mode);
OnFinding GetOnFinding();

// Printed at the top of every report (e.g. the engine variant).
void SetReportVariant(const char* variant);
// The execution's settings, printed under the variant (preemption model,
// allocation failure, RCU settings). `settings` must outlive the report.
void SetReportSettings(const char* settings);
const char* ReportSettings();

// Describes a model object for reports (allocation and free sites). The
// kernel allocator installs one.
using ObjectDescriber = std::string (*)(int64_t object_id);
void SetObjectDescriber(ObjectDescriber fn);

struct Finding {
  char name[64];
  // What tells this finding apart from another of its name, when the
  // reporter knows better than the object and the code it happened in (a
  // context rule: the call and the context); "" otherwise.
  char key[96];
  char detail[512];
  uint64_t step;
  int task;
  int vcpu;
  int depth;
  int64_t object_id;  // -1 if none
};

// `name` must be a string literal or one of the constants above (it labels
// the trace). `object_id` names the model object involved, or -1.
[[noreturn]] void Report(const char* name, int64_t object_id, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Report() with the finding's key (Finding::key), e.g. "call_rcu() called
// from NMI context".
[[noreturn]] void ReportKeyed(const char* name, int64_t object_id, const char* key, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// The finding of the current execution, or nullptr.
const Finding* LastFinding();
void ClearFinding();

// The whole human-readable report of the last finding: variant, finding,
// first bad step, detail, object sites, the per-vCPU timeline, and the last
// line "finding: <name>".
std::string FormatReport();

}  // namespace reclaimfuzz::check

#endif  // RECLAIMFUZZ_ENGINE_REPORT_REPORT_H_
