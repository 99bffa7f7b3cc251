// SPDX-License-Identifier: MIT
// triage: group a folder of crashing inputs by (variant, finding, where),
// so a campaign's hundred crash files read as a few bugs.
//
// Each group's "where" is the finding value's (fuzz/finding.h): for a
// reclamation finding, the function that freed the object ("freed by
// drain_mem_cache"); for a context rule, the call and the context
// ("kzalloc() called from NMI context"); for a sanitizer's, the first
// function of ours on its stack ("in bpf_local_storage_update");
// otherwise the function the bad step ran in.
#ifndef RECLAIMFUZZ_TOOLS_CLI_TRIAGE_H_
#define RECLAIMFUZZ_TOOLS_CLI_TRIAGE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/storage/variant.h"

namespace reclaimfuzz::cli {

// The variant a path names, from the nearest folder (below `root`) called
// storage_<variant>_fuzz or <variant>; nullopt if none does.
std::optional<storage::Variant> VariantFromPath(const std::string& root, const std::string& path);

struct TriageGroup {
  std::string variant;
  std::string finding;  // "none" too; "invalid-input" for files that do not decode
  std::string frame;
  int count = 0;
  std::string example;  // the smallest file of the group
  uint64_t example_size = 0;
};

// Runs every regular file under `dir` (recursively; hidden files, logs, *.tsv,
// verdict.txt and *.md skipped) on `variants`, or when that is empty on
// the variant its path names, else on all. Groups sorted by variant, then
// by count (largest first), "none" last.
absl::StatusOr<std::vector<TriageGroup>> TriageDir(const std::string& dir,
                                                   const std::vector<storage::Variant>& variants, int* files = nullptr);

std::string FormatTriageTable(const std::vector<TriageGroup>& groups);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_TRIAGE_H_
