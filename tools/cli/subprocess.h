// SPDX-License-Identifier: MIT
// Child processes for the campaign: the fuzzer (its output read live
// through a pipe) and build commands (output to a log file).
//
// posix_spawn, not fork(): the CLI may itself run under a sanitizer. The
// child leads its own process group, so Signal() reaches the jobs that
// libFuzzer's fork mode starts too.
#ifndef RECLAIMFUZZ_TOOLS_CLI_SUBPROCESS_H_
#define RECLAIMFUZZ_TOOLS_CLI_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reclaimfuzz::cli {

struct SpawnOptions {
  std::string cwd;                   // "" : the current directory
  std::string output_file;           // "" : stdout and stderr into a pipe (Read)
  bool append = false;               // append to output_file rather than truncate it
  std::vector<std::string> env_set;  // "NAME=VALUE" added to (or replacing in) the environment
};

class Subprocess {
 public:
  // argv[0] is looked up in PATH when it has no '/'.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv,
                                                           const SpawnOptions& options);
  ~Subprocess();  // kills the group if still running

  // Appends what the child wrote within `timeout_ms` to *out. False once
  // the pipe is closed (or there is none).
  bool Read(int timeout_ms, std::string* out);
  // Sends `sig` to the child's process group while the child runs.
  void Signal(int sig);
  // SIGKILL to the group even after the child exited: what it started
  // (libFuzzer's fork-mode jobs) may outlive it.
  void KillGroup();
  // The exit status once the child has exited (128+N for signal N).
  std::optional<int> Poll();
  int Wait();
  pid_t pid() const { return pid_; }

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::optional<int> status_;
};

// True if `program` is an executable in one of PATH's folders.
bool InPath(const std::string& program);

// Runs to completion with output into `log`; returns the exit status.
absl::StatusOr<int> RunLogged(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_SUBPROCESS_H_
