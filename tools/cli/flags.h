// SPDX-License-Identifier: MIT
// The command-line flags of every subcommand (Abseil flags). They are
// defined in one place because several subcommands share a name (--variant,
// -o); each subcommand lists the ones it accepts (command.h) and rejects
// the others.
#ifndef RECLAIMFUZZ_TOOLS_CLI_FLAGS_H_
#define RECLAIMFUZZ_TOOLS_CLI_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, variant);
ABSL_DECLARE_FLAG(std::string, o);
ABSL_DECLARE_FLAG(int32_t, rows);
ABSL_DECLARE_FLAG(bool, short);
ABSL_DECLARE_FLAG(std::string, html);
ABSL_DECLARE_FLAG(int32_t, max_runs);
ABSL_DECLARE_FLAG(absl::Duration, duration);
ABSL_DECLARE_FLAG(int32_t, jobs);
ABSL_DECLARE_FLAG(std::string, engine);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, corpus);
ABSL_DECLARE_FLAG(std::string, fuzzer_dir);
ABSL_DECLARE_FLAG(bool, build);
ABSL_DECLARE_FLAG(int64_t, seed);
ABSL_DECLARE_FLAG(bool, mute_seen);
ABSL_DECLARE_FLAG(bool, minimize_corpus);
ABSL_DECLARE_FLAG(bool, compare);
ABSL_DECLARE_FLAG(std::string, preempt);

#endif  // RECLAIMFUZZ_TOOLS_CLI_FLAGS_H_
