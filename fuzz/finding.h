// SPDX-License-Identifier: MIT
// A finding as one value, and the execution that led to it.
//
// Every report reads this: `replay` and its HTML page, `triage`, the
// campaign's deduplication and reproducers, `bench`. It is produced in one
// place for each way a bug shows itself:
//   - an oracle of the model (engine/check, engine/kernel, engine/rcu):
//     CaptureLastRun() after RunProgram();
//   - a sanitizer (ASan, TSan) killing a fuzz target: the target's death
//     callback writes the same value as JSON (fuzz/sanitizer_report.cc),
//     which ExecutionFromJson() reads back.
// Nothing downstream parses report text.
//
// Findings are told apart by Finding::Key(): (variant, name, where), where
// `where` is what the finding's own evidence says happened where (the
// function that freed the object a reader still held, the call a context
// rule forbids, the first function of ours on the sanitizer's stack).
#ifndef RECLAIMFUZZ_FUZZ_FINDING_H_
#define RECLAIMFUZZ_FUZZ_FINDING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/trace.h"
#include "engine/storage/variant.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"

namespace reclaimfuzz::fuzz {

// Where something happened: the function, and when and by whom.
struct Site {
  std::string function;
  uint64_t step = 0;
  std::string task;  // "" when unknown (a sanitizer's stack)
  int depth = 0;     // 0 task, 1 hardirq, 2 NMI
  bool operator==(const Site&) const = default;
};

// The object a finding is about, with its allocation and free sites.
struct FindingObject {
  int64_t id = -1;  // the allocator registry's id; -1 for a sanitizer's
  std::string type;
  uint64_t size = 0;
  std::string allocator;  // "kmalloc_nolock", "kzalloc", "malloc" ...
  Site alloc;
  bool freed = false;
  Site free;
  bool operator==(const FindingObject&) const = default;
};

struct Finding {
  std::string name = "none";      // a stable name (engine/report/report.h)
  std::string source = "oracle";  // "oracle", "asan" or "tsan"
  std::string variant;
  std::string where;     // what tells it apart (see the file comment)
  std::string function;  // the function the bad step ran in
  std::string op;        // the BPF operation its context ran, "" none
  uint64_t step = 0;
  std::string task;  // "" when no task ran it
  int vcpu = -1;
  int depth = 0;
  std::string detail;  // the oracle's or sanitizer's own words
  std::optional<FindingObject> object;
  bool operator==(const Finding&) const = default;

  bool any() const { return name != "none"; }
  // "use-after-free in bpf_local_storage_update",
  // "reader-saw-freed (freed by drain_mem_cache)".
  std::string Title() const;
  // The deduplication key: variant, name, where.
  std::string Key() const;
};

// One trace event, copied out of the machine.
struct TraceEvent {
  uint64_t step = 0;
  int64_t arg = 0;
  std::string label;
  std::string func;  // the function it happened in ("" unknown)
  sched::EventKind kind = sched::EventKind::kNote;
  int task = -1;  // -1: the main context
  int op = -1;    // index into Execution::op_names
  int vcpu = -1;  // -1: housekeeping (no vCPU)
  int depth = 0;  // 0 task, 1 hardirq, 2 NMI
  bool operator==(const TraceEvent&) const = default;
};

// One execution as a value: what ran, the finding, and the interleaving.
struct Execution {
  std::string variant;
  std::string settings;      // what the kernel configuration decided
  std::string program_text;  // the program as run, text form
  Finding finding;
  sched::RunStatus status = sched::RunStatus::kCompleted;
  uint64_t steps = 0;
  uint64_t trace_hash = 0;
  uint64_t decisions = 0;  // non-default scheduling decisions recorded
  int num_vcpus = 1;
  std::vector<std::string> task_names;  // by task id
  std::vector<std::string> op_names;    // by op number (OpNames())
  std::vector<TraceEvent> events;       // retained events, oldest first
  uint64_t total_events = 0;            // events ever traced
  bool operator==(const Execution&) const = default;

  // The per-vCPU timeline (full form, at most `rows` rows), or the short
  // form for a mailing list (at most `rows` lines: the operations, the
  // unlink, grace periods, the free and the bad access).
  std::string Timeline(size_t rows, bool short_form) const;
};

// The execution RunProgram() just ran (`p` as it ran it, `r` its result).
Execution CaptureLastRun(const Program& p, const RunResult& r, storage::Variant v);

// The allocator registry's object `id` of the last execution (its sites),
// or of the newest object whose memory contained `p`; nullopt if none.
std::optional<FindingObject> RegistryObject(int64_t id);
std::optional<FindingObject> RegistryObjectAt(const void* p);

// The finding of the last RunProgram() alone (cheaper: no events copied).
Finding LastFinding(storage::Variant v);

// The JSON form (one object; what the fuzz targets write on a sanitizer's
// death and the campaign's children pass back).
std::string ExecutionToJson(const Execution& e);
absl::StatusOr<Execution> ExecutionFromJson(const std::string& json);

// A sanitizer's report kind as a finding name: "heap-use-after-free" ->
// "use-after-free", "double-free" -> "double-free", a data race ->
// "data-race"; anything else "asan:<kind>".
std::string SanitizerFindingName(const std::string& tool, const std::string& kind);

}  // namespace reclaimfuzz::fuzz

#endif  // RECLAIMFUZZ_FUZZ_FINDING_H_
