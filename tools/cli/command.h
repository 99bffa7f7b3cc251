// SPDX-License-Identifier: MIT
// Subcommands of reclaimfuzz_cli and their argument parsing.
//
// Each subcommand is a function from its arguments (without the program and
// subcommand names) to an exit status, writing to the two streams it is
// given, so tests run them in-process. Exit statuses are the same
// everywhere: 0 success (replay: no finding), 1 a finding (replay), 2 bad
// input or usage (one line on `err`, never a crash).
//
// Flags are Abseil flags (flags.h), parsed here with Abseil's reflection
// API rather than absl::ParseCommandLine so that each subcommand accepts
// only its own flags, `--help` prints only those, and errors exit with 2
// instead of absl's exit(1). Accepted forms: --name=value, --name value,
// -name=value, --bool_flag, --nobool_flag, and '--' to end the flags.
#ifndef RECLAIMFUZZ_TOOLS_CLI_COMMAND_H_
#define RECLAIMFUZZ_TOOLS_CLI_COMMAND_H_

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reclaimfuzz::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;  // campaign stopped by Ctrl-C (128 + SIGINT)

using Args = std::vector<std::string>;

int ReplayMain(const Args& args, std::ostream& out, std::ostream& err);
int DecodeMain(const Args& args, std::ostream& out, std::ostream& err);
int VariantsMain(const Args& args, std::ostream& out, std::ostream& err);
int EncodeMain(const Args& args, std::ostream& out, std::ostream& err);
int MinimizeMain(const Args& args, std::ostream& out, std::ostream& err);
int TriageMain(const Args& args, std::ostream& out, std::ostream& err);
int CampaignMain(const Args& args, std::ostream& out, std::ostream& err);
int BenchMain(const Args& args, std::ostream& out, std::ostream& err);

struct Command {
  const char* name;
  const char* synopsis;            // "replay --variant V FILE..."
  const char* description;         // a paragraph for --help
  std::vector<const char*> flags;  // names of the Abseil flags it accepts
  int (*main)(const Args&, std::ostream&, std::ostream&);
};

// Every subcommand, in the order `help` lists them.
const std::vector<Command>& Commands();
const Command* FindCommand(const std::string& name);

// Top-level usage (every subcommand with its synopsis).
std::string Usage();
// A subcommand's --help: synopsis, description, its flags with defaults.
std::string CommandHelp(const Command& c);

struct Parsed {
  bool help = false;  // --help was given: CommandHelp is printed
  std::vector<std::string> positional;
  std::set<std::string> given;  // names of the flags the arguments set
  // The flag was on the command line (even with its default value).
  bool Given(const std::string& name) const { return given.count(name) > 0; }
};

// Resets the command's flags to their defaults, then applies `args`.
// Errors name the offending argument ("unknown flag --x for replay").
absl::StatusOr<Parsed> ParseArgs(const Command& c, const Args& args);

// The common prologue of a subcommand: parses, prints help or the error.
// Returns -1 to go on, or the exit status to return.
int Prologue(const char* name, const Args& args, std::ostream& out, std::ostream& err, Parsed* parsed);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_COMMAND_H_
