// SPDX-License-Identifier: MIT
#include "tools/cli/crash_index.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/cli/common.h"
#include "tools/cli/durable.h"

namespace reclaimfuzz::cli {

void FindingIndex::Load() {
  entries_.clear();
  absl::StatusOr<std::string> text = ReadFile(path_);
  if (!text.ok()) return;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() < 5) continue;
    entries_.push_back(KnownFinding{f[0], f[1], f[2], f[3], f[4] == "model"});
  }
}

absl::Status FindingIndex::Save() const {
  std::string text = "# finding\twhere\treproducer (<name>.txt beside this file)\tfirst crash\tnamed by\n";
  for (const KnownFinding& k : entries_) {
    absl::StrAppend(&text, k.finding, "\t", k.frame, "\t", k.slug, "\t", k.crash, "\t", k.model ? "model" : "target",
                    "\n");
  }
  return WriteFileAtomic(path_, text);
}

const KnownFinding* FindingIndex::Find(const std::string& finding, const std::string& frame) const {
  for (const KnownFinding& k : entries_) {
    if (k.finding == finding && k.frame == frame) return &k;
  }
  return nullptr;
}

const KnownFinding& FindingIndex::Add(const std::string& finding, const std::string& frame, const std::string& crash,
                                      bool model) {
  std::string slug = FileNameFor(finding);
  for (int i = 2;; ++i) {
    bool taken = false;
    for (const KnownFinding& k : entries_) taken |= k.slug == slug;
    if (!taken) break;
    slug = absl::StrCat(FileNameFor(finding), "-", i);
  }
  entries_.push_back(KnownFinding{finding, frame, slug, crash, model});
  return entries_.back();
}

}  // namespace reclaimfuzz::cli
