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
#include "fuzz/finding.h"
#include "fuzz/program.h"

namespace reclaimfuzz::cli {

// Which of the settings a kernel configuration decides the finding of `p`
// on `v` needs: the input replayed with voluntary instead of full
// preemption, and (real trees) without allocation failures; each line says
// whether the finding stays.
std::string NeededSettings(const fuzz::Program& p, storage::Variant v, const std::string& finding);

// Everything one replay showed (the execution as a value, fuzz/finding.h)
// and what `replay` prints; read by the HTML report (html_report.h).
struct ReplayResult : fuzz::Execution {
  std::string source;  // what was replayed (a path), for headers
  // The settings the finding needs (NeededSettings()); empty without one.
  std::string needs;
  // What `replay` prints: the finding's report or the timeline, ending with
  // the line "finding: <name>".
  std::string text;
};

// Runs `p` once on `v` (its own schedule, recorded, as the fuzz targets run
// it) and copies out the result; `rows` bounds the timeline in `text`.
ReplayResult CaptureReplay(const fuzz::Program& p, storage::Variant v, int rows = 80, bool short_form = false);

// What `replay` prints for an execution already captured (a sanitizer's,
// read back from a fuzz target): header, finding, object sites, timeline,
// and the last line "finding: <name>".
std::string FormatExecution(const fuzz::Execution& e, int rows, bool short_form);

// Runs `p` once on `v` (its own schedule, recorded) and writes the per-vCPU
// timeline, or the finding's report (which holds the timeline), ending
// with the line "finding: <name>". Returns the finding name or "none".
std::string ReplayProgram(const fuzz::Program& p, storage::Variant v, int rows, std::ostream& out);

// The same for a file (text or binary); errors are bad input.
absl::StatusOr<std::string> ReplayFile(const std::string& path, storage::Variant v, int rows, std::ostream& out);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_REPLAY_H_
