// SPDX-License-Identifier: MIT
// triage: group a folder of crashing inputs by (variant, finding, first bad
// frame), so a campaign's hundred crash files read as a few bugs.
//
// For a reclamation finding whose report names the freeing function
// ("... freed by drain_mem_cache ..."), the first bad frame is "freed by
// <function>"; for a context rule, the call and context it names
// ("kzalloc() called from NMI context"). Otherwise it is the label of the last trace event of the context
// that reported the finding (same task, same interrupt depth) before the
// finding itself: the model function or preemption point where things went
// wrong (for a free before its grace period, the freeing call). Without a
// trace event it is the finding's detail with numbers replaced by 'N'.
#ifndef RECLAIMFUZZ_TOOLS_CLI_TRIAGE_H_
#define RECLAIMFUZZ_TOOLS_CLI_TRIAGE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/storage/variant.h"

namespace reclaimfuzz::cli {

// The first bad frame of the last RunProgram(), or "-" without a finding.
std::string FirstBadFrame();

// The variant a path names, from the nearest folder (below `root`) called
// storage_<variant>_fuzz or <variant>; nullopt if none does.
std::optional<storage::Variant> VariantFromPath(const std::string& root,
                                                const std::string& path);

struct TriageGroup {
  std::string variant;
  std::string
      finding;  // "none" too; "invalid-input" for files that do not decode
  std::string frame;
  int count = 0;
  std::string example;  // the smallest file of the group
  uint64_t example_size = 0;
};

// Runs every regular file under `dir` (recursively; hidden files, logs, *.tsv,
// verdict.txt and *.md skipped) on `variants`, or when that is empty on
// the variant its path names, else on all. Groups sorted by variant, then
// by count (largest first), "none" last.
absl::StatusOr<std::vector<TriageGroup>> TriageDir(
    const std::string& dir, const std::vector<storage::Variant>& variants,
    int* files = nullptr);

std::string FormatTriageTable(const std::vector<TriageGroup>& groups);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_TRIAGE_H_
