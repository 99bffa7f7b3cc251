// SPDX-License-Identifier: MIT
// Runs an input on a variant's fuzz target (a sanitizer build) and reads
// back the finding it wrote (fuzz/sanitizer_report.h): how a crash that
// the model in this process cannot run safely, or whose bug only a
// sanitizer sees, becomes a finding value like any oracle's.
#ifndef RECLAIMFUZZ_TOOLS_CLI_TARGET_REPLAY_H_
#define RECLAIMFUZZ_TOOLS_CLI_TARGET_REPLAY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/storage/variant.h"
#include "fuzz/finding.h"
#include "fuzz/program.h"

namespace reclaimfuzz::cli {

// The variant's fuzz target in this checkout's ASan build
// (build/asan/fuzz/storage_<ident>_fuzz), or "" if it is not built.
std::string AsanTargetFor(storage::Variant v);

// Runs `target` once on the input file `input` with
// RECLAIMFUZZ_FINDING_OUT: the execution it wrote, or one with no finding
// when it wrote none (the input runs clean there); an error when the
// target could not run or wrote something unreadable. Its output goes to
// `log` ("" : a temporary file, removed).
absl::StatusOr<fuzz::Execution> ReplayOnTarget(const std::string& target, const std::string& input,
                                               const std::string& log = "");

// The same with the command that runs the input (a fuzz engine's replay
// command, engine.h), for targets that need other flags.
absl::StatusOr<fuzz::Execution> ReplayOnTargetCommand(const std::vector<std::string>& argv);

// The same for a program (written to a temporary binary file first).
absl::StatusOr<fuzz::Execution> ReplayProgramOnTarget(const std::string& target, const fuzz::Program& p);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_TARGET_REPLAY_H_
