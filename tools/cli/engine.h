// SPDX-License-Identifier: MIT
// Fuzzing engines for the campaign, one per file behind one interface
// (shuttle's schedulers do the same): engine_libfuzzer.cc, engine_afl.cc.
//
// A session is one run of an engine on one variant's target for a time
// budget. The campaign drives it: Start, then Pump until it returns false
// (reading progress), Signal to stop it early, Wait for its status.
// Sessions of one variant share its folder, so a restart continues from
// the corpus the previous session grew, and so does a campaign restarted
// on the same results folder (after a kill -9 too).
//
// What an engine must keep: <dir>/corpus/ only grows while it fuzzes (files
// are added, never changed or removed), crashing inputs end up in
// <dir>/crashes/, and its temporary files stay inside spec.tmp_dir.
#ifndef RECLAIMFUZZ_TOOLS_CLI_ENGINE_H_
#define RECLAIMFUZZ_TOOLS_CLI_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tools/cli/libfuzzer_log.h"

namespace reclaimfuzz::cli {

struct SessionSpec {
  std::string target;            // the fuzz target binary
  std::string dir;               // the variant's results folder: corpus/ (seeds, binary) and
                                 // crashes/ inside
  int jobs = 1;                  // parallel fuzzing processes
  int64_t seconds = 60;          // budget of this session
  int64_t seed = 0;              // 0: the engine picks
  std::vector<std::string> env;  // NAME=VALUE for the target
  std::string log_path;          // where the engine's own output goes (appended)
  std::string tmp_dir;           // the engine's scratch folder (TMPDIR); emptied
                                 // by the campaign before each session
};

class FuzzEngine {
 public:
  virtual ~FuzzEngine() = default;
  virtual const char* name() const = 0;
  // The CMake preset whose build/<preset>/fuzz/ targets this engine runs.
  virtual const char* preset() const = 0;

  virtual absl::Status Start(const SessionSpec& spec) = 0;
  // Waits up to `timeout_ms` for news and updates *p with this session's
  // numbers. False once every process of the session has exited.
  virtual bool Pump(int timeout_ms, FuzzerProgress* p) = 0;
  virtual void Signal(int sig) = 0;
  virtual int Wait() = 0;
  // Copies crashing inputs saved since the last call into <dir>/crashes/
  // (libFuzzer writes there itself; AFL++ keeps its own folders, which it
  // renames on resume).
  virtual void CollectCrashes() {}
  // Copies inputs the engine keeps outside <dir>/corpus/ (AFL++'s queues)
  // into it, each written atomically under the SHA-1 of its content.
  virtual void SyncCorpus() {}
  // The command that minimizes `src` into the empty folder `dest` keeping
  // every input that adds coverage, resumable from `control` after a kill
  // (libFuzzer -merge=1 -merge_control_file); empty if the engine has none.
  virtual std::vector<std::string> MergeCommand(const std::string& /*target*/, const std::string& /*dest*/,
                                                const std::string& /*src*/, const std::string& /*control*/) const {
    return {};
  }
  // The command that runs one input in the target once (to name a crash
  // the model does not reproduce from the target's own report).
  virtual std::vector<std::string> ReplayCommand(const std::string& target, const std::string& input,
                                                 const std::string& scratch) const = 0;
};

std::unique_ptr<FuzzEngine> MakeLibFuzzerEngine();
std::unique_ptr<FuzzEngine> MakeAflEngine();

// AFL++'s fuzzer_stats file ("execs_done : 116665" lines) into *p; false if
// it holds no execs_done.
bool ParseAflStats(absl::string_view text, FuzzerProgress* p);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_ENGINE_H_
