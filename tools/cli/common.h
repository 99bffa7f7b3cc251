// SPDX-License-Identifier: MIT
// Shared pieces of the subcommands: files, programs, variants, sizes.
#ifndef RECLAIMFUZZ_TOOLS_CLI_COMMON_H_
#define RECLAIMFUZZ_TOOLS_CLI_COMMON_H_

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/storage/variant.h"
#include "fuzz/finding.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"

namespace reclaimfuzz::cli {

// Whole-file I/O. Errors name the path and the reason.
absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status WriteFile(const std::string& path, absl::string_view data);

// Reads and decodes a program, text or binary (fuzz::DecodeAny). A text
// syntax error reads "PATH:LINE:COLUMN: message".
absl::StatusOr<fuzz::Program> LoadProgram(const std::string& path);
// The same from bytes already read; `path` only labels errors.
absl::StatusOr<fuzz::Program> DecodeProgram(const std::string& path, absl::string_view bytes);

// One variant by name; the error lists the valid names.
absl::StatusOr<storage::Variant> ParseOneVariant(absl::string_view name);
// "v4,always-defer-v1", or "all" / "" for every variant.
absl::StatusOr<std::vector<storage::Variant>> ParseVariantList(absl::string_view list);
std::string AllVariantNames();  // "v4, v4-srcu-fix, ..."
// "always-defer-v1" -> "storage_always_defer_v1_fuzz"
std::string FuzzTargetName(storage::Variant v);
// The command that replays `input` on `variant`: "tools/reclaimfuzz replay
// --variant V INPUT". For a user's tree ('tree', and check's 'tree-base'),
// with the --kernel-tree and --patch arguments this process was built with
// (tools/reclaimfuzz passes them as RECLAIMFUZZ_KERNEL_TREE and
// RECLAIMFUZZ_KERNEL_PATCHES): 'tree-base' is the tree without the patches.
std::string ReplayCommand(absl::string_view variant, absl::string_view input);

// Sizes a minimizer reports and never grows.
struct ProgramSize {
  int tasks = 0;
  int irqs = 0;
  int steps = 0;     // task steps (program invocations and lifecycle events)
  int ops = 0;       // helper calls, in task programs and interrupt programs
  int schedule = 0;  // schedule events
  bool operator==(const ProgramSize&) const = default;
};
ProgramSize SizeOf(const fuzz::Program& p);
std::string FormatSize(const ProgramSize& s);  // "3 tasks, 1 irqs, 4 steps, 9
                                               // ops, 2 schedule events"

// A program as the fuzz targets run it (fuzz/storage_fuzz.cc), so that
// every subcommand agrees with the fuzzer about an input
// (fuzz::AsFuzzTargetsRun()).
// MODEL: keep in step with LLVMFuzzerTestOneInput.
fuzz::Program AsTargetsRun(fuzz::Program p, storage::Variant v);

// Runs AsTargetsRun(p) once under its own schedule, stopping at a finding.
// The --preempt flag's model, or nullopt (the variant's).
std::optional<sched::PreemptModel> PreemptFlag();

fuzz::RunResult RunOnce(const fuzz::Program& p, storage::Variant v, bool record_schedule = false);

// Runs fn in a forked child and returns what it returned; a child that
// died is an error naming how ("crash (signal 11)", "crash (exit 1)").
// Commands that run inputs in this (release) process use it for inputs
// whose bug the oracles may not stop (a stale access ASan would name, a
// list corrupted past what the checks see). Only from a process without
// threads.
absl::StatusOr<std::string> InChild(const std::function<std::string()>& fn);

// RunOnce(p, v) in a child (InChild): its finding as a value.
absl::StatusOr<fuzz::Finding> FindingInChild(const fuzz::Program& p, storage::Variant v);

// A finding name made safe for a file name ("invariant:x" -> "invariant_x").
std::string FileNameFor(absl::string_view finding);

// The source tree this binary was built from (the campaign's defaults).
std::string SourceDir();

// While alive, SIGINT and SIGTERM set Interrupted() instead of killing the
// process, so a long command (campaign, bench) stops its children and
// still prints what it has; the old handlers come back at destruction.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};
bool Interrupted();

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_COMMON_H_
