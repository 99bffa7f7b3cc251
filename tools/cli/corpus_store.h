// SPDX-License-Identifier: MIT
// The campaign's folders on disk: the corpus and crash folders of a
// variant, what a kill leaves in them, and the seeds that start them.
#ifndef RECLAIMFUZZ_TOOLS_CLI_CORPUS_STORE_H_
#define RECLAIMFUZZ_TOOLS_CLI_CORPUS_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reclaimfuzz::cli {

// Files of a folder (not hidden, not being written by WriteFileAtomic),
// sorted.
std::vector<std::string> FilesIn(const std::string& dir);

// Fuzzers a killed campaign left running on a variant's folder: every
// process whose working folder is `dir` (or inside it) and whose program
// is `target` or afl-fuzz, killed. Returns how many.
int KillLeftovers(const std::string& dir, const std::string& target);

// The names of a folder's files, hashed: a merge control file is reused
// only for the corpus it was made for.
std::string ListingHash(const std::string& dir);

// Undoes what a kill can leave in a variant's folder `dir`: temporary
// files of atomic writes removed, files libFuzzer was writing in place
// (their content no longer matches the SHA-1 they are named by) moved to
// dir/quarantine/. Returns how many were moved.
int RepairFolder(const std::string& dir);

// Converts every seed under `seed_dirs` (text or binary) to the binary form
// in `work_dir`, one file per distinct program; returns how many. Skipped:
// folders named `regression` (known reproducers, not seeds: the fuzzer is
// to find the bugs itself), expected.txt and *.md (corpus/README.md). A
// missing folder is no error (an empty corpus). Seeds that do not parse
// are listed in *skipped ("path:line:col: message").
// The campaign's seeds for a variant: <corpus>/seeds/ and
// <corpus>/storage_<variant>_fuzz/.
absl::StatusOr<int> PrepareCorpus(const std::vector<std::string>& seed_dirs, const std::string& work_dir,
                                  std::vector<std::string>* skipped);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_CORPUS_STORE_H_
