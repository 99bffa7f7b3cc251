// replay: run inputs once and show what happened.
#ifndef RECLAIMFUZZ_TOOLS_CLI_REPLAY_H_
#define RECLAIMFUZZ_TOOLS_CLI_REPLAY_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "engine/storage/variant.h"
#include "fuzz/program.h"

namespace reclaimfuzz::cli {

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
