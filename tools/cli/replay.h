// SPDX-License-Identifier: MIT
// replay: run inputs once and show what happened.
#ifndef RECLAIMFUZZ_TOOLS_CLI_REPLAY_H_
#define RECLAIMFUZZ_TOOLS_CLI_REPLAY_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/trace.h"
#include "engine/storage/variant.h"
#include "fuzz/program.h"

namespace reclaimfuzz::cli {

// One trace event, copied out of the machine (sched::Event with its label).
struct ReplayEvent {
  uint64_t step = 0;
  int64_t arg = 0;
  std::string label;
  sched::EventKind kind = sched::EventKind::kNote;
  int task = -1;  // -1: the main context
  int vcpu = -1;  // -1: housekeeping (no vCPU)
  int depth = 0;  // 0 task, 1 hardirq, 2 NMI
};

// The model object a finding names, with its allocation and free sites.
struct ReplayObject {
  int64_t id = -1;
  std::string type;
  size_t size = 0;
  std::string allocator;  // "kmalloc_nolock" or "kzalloc"
  std::string alloc_site;
  uint64_t alloc_step = 0;
  std::string alloc_task;
  bool freed = false;
  std::string free_site;
  uint64_t free_step = 0;
  std::string free_task;
  int free_depth = 0;  // 0 task, 1 hardirq, 2 NMI
};

// Everything one replay showed, copied out of the engine so that it outlives
// the next execution: the finding, the object, the trace and the text that
// `replay` prints. Produced by CaptureReplay(); read by the HTML report
// (html_report.h).
// Which of the settings a kernel configuration decides the finding of `p`
// on `v` needs: the input replayed with voluntary instead of full
// preemption, and (real trees) without allocation failures; each line says
// whether the finding stays.
std::string NeededSettings(const fuzz::Program& p, storage::Variant v, const std::string& finding);

struct ReplayResult {
  std::string source;  // what was replayed (a path), for headers
  storage::Variant variant = storage::Variant::kV4;
  std::string program_text;  // the program as run, text form

  std::string finding = "none";
  std::string detail;
  // The settings the finding needs, as replays with each relaxed show
  // (NeededSettings()); empty without a finding.
  std::string needs;
  uint64_t finding_step = 0;
  std::string finding_task;  // "" when no task ran it
  int finding_vcpu = -1;
  int finding_depth = 0;
  std::optional<ReplayObject> object;

  sched::RunStatus status = sched::RunStatus::kCompleted;
  uint64_t steps = 0;
  uint64_t trace_hash = 0;
  size_t decisions = 0;  // non-default scheduling decisions recorded
  int num_vcpus = 1;
  std::vector<std::string> task_names;  // by task id
  std::vector<ReplayEvent> events;      // retained events, oldest first
  uint64_t total_events = 0;            // events ever traced (>= events.size())

  // What `replay` prints: the finding's report or the timeline, ending with
  // the line "finding: <name>".
  std::string text;
};

// Runs `p` once on `v` (its own schedule, recorded, as the fuzz targets run
// it) and copies out the result; `rows` bounds the timeline in `text`.
ReplayResult CaptureReplay(const fuzz::Program& p, storage::Variant v,
                           int rows = 80);

// Runs `p` once on `v` (its own schedule, recorded) and writes the per-vCPU
// timeline, or the finding's report (which holds the timeline), ending
// with the line "finding: <name>". Returns the finding name or "none".
std::string ReplayProgram(const fuzz::Program& p, storage::Variant v, int rows,
                          std::ostream& out);

// The same for a file (text or binary); errors are bad input.
absl::StatusOr<std::string> ReplayFile(const std::string& path,
                                       storage::Variant v, int rows,
                                       std::ostream& out);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_REPLAY_H_
