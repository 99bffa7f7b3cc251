// SPDX-License-Identifier: MIT
// The findings a campaign folder remembers: <variant>/findings.tsv, one
// line per (finding, where) ever seen there, across campaigns.
#ifndef RECLAIMFUZZ_TOOLS_CLI_CRASH_INDEX_H_
#define RECLAIMFUZZ_TOOLS_CLI_CRASH_INDEX_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace reclaimfuzz::cli {

// One finding of a variant: (finding, frame) is the key, `frame` its where
// (fuzz::Finding::where).
struct KnownFinding {
  std::string finding;
  std::string frame;
  std::string slug;   // <variant>/<slug>.txt is its reproducer
  std::string crash;  // the first crash file that showed it
  bool model = true;  // named by the model (else by the target)
};

class FindingIndex {
 public:
  explicit FindingIndex(std::string path) : path_(std::move(path)) {}

  // Reads the file; a missing one is an empty index, malformed lines are
  // skipped.
  void Load();
  // Writes it whole (atomically).
  absl::Status Save() const;

  const KnownFinding* Find(const std::string& finding, const std::string& frame) const;
  // Adds a (finding, frame) not there yet, with a reproducer name of its
  // own (<finding>, then <finding>-2, ...).
  const KnownFinding& Add(const std::string& finding, const std::string& frame, const std::string& crash, bool model);

  const std::vector<KnownFinding>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::string path_;
  std::vector<KnownFinding> entries_;
};

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_CRASH_INDEX_H_
