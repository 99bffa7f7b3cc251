// bench: executions per second and time-to-find per finding. Not part of
// this front end yet; it arrives with the benchmark issue.
#include "tools/cli/command.h"

namespace reclaimfuzz::cli {

int BenchMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("bench", args, out, err, &parsed); rc >= 0) return rc;
  err << "reclaimfuzz bench: not implemented yet\n";
  return kExitUsage;
}

}  // namespace reclaimfuzz::cli
