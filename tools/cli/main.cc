// SPDX-License-Identifier: MIT
// reclaimfuzz_cli: the fuzzing front end behind tools/reclaimfuzz
// (campaign, replay, minimize, triage, decode, encode, bench). The
// subcommands live in tools/cli/ (library rf_cli); this only dispatches.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/command.h"

int main(int argc, char** argv) {
  using reclaimfuzz::cli::kExitUsage;
  if (argc < 2) {
    std::cerr << reclaimfuzz::cli::Usage();
    return kExitUsage;
  }
  const std::string sub = argv[1];
  if (sub == "help" || sub == "--help" || sub == "-h") {
    std::cout << reclaimfuzz::cli::Usage();
    return 0;
  }
  const reclaimfuzz::cli::Command* c = reclaimfuzz::cli::FindCommand(sub);
  if (c == nullptr) {
    std::cerr << "reclaimfuzz: unknown command '" << sub << "'\n\n" << reclaimfuzz::cli::Usage();
    return kExitUsage;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  const int rc = c->main(args, std::cout, std::cerr);
  std::cout.flush();
  return rc;
}
