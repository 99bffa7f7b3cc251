// SPDX-License-Identifier: MIT
// Files that survive a kill -9 at any moment: what the campaign keeps in
// its results folder (corpus, crashes, findings) is written whole or not at
// all, and folders are replaced in one step.
#ifndef RECLAIMFUZZ_TOOLS_CLI_DURABLE_H_
#define RECLAIMFUZZ_TOOLS_CLI_DURABLE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace reclaimfuzz::cli {

// SHA-1 of `data` in lowercase hex: the name libFuzzer gives corpus files
// and artifacts ("crash-<sha1>"), so a file whose content does not match its
// name was cut short by a kill while being written. OpenSSL's libcrypto
// computes it.
std::string Sha1Hex(absl::string_view data);

// Writes `data` to a temporary file beside `path` (".<name>.tmp.<pid>"),
// flushes it to disk, renames it over `path` and flushes the folder: after
// a kill at any moment `path` holds either its old content or `data`.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data);

// Swaps two folders in one step (renameat2 RENAME_EXCHANGE): each name then
// holds what the other held; no moment exists where either is half there.
absl::Status ExchangeDirs(const std::string& a, const std::string& b);

// Flushes the file system holding `path` (syncfs).
void SyncFileSystem(const std::string& path);

// For a file named "<sha1>" or "<prefix>-<sha1>" (libFuzzer's corpus files
// and artifacts): false if its content's SHA-1 differs from its name. True
// for names without a SHA-1 (nothing to check).
bool ContentMatchesName(const std::string& name, absl::string_view content);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_DURABLE_H_
