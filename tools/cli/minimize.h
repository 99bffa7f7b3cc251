// SPDX-License-Identifier: MIT
// minimize: shrink a program while it keeps giving the same finding.
//
// Works on the program IR, not on bytes (syzkaller's prog/minimization.go
// does the same): each candidate is one structural change, kept when the
// run still reports the same finding name. Passes, largest first: remove a
// task, an interrupt program, a step, an op, schedule events, a map or
// owner nobody references; then lower schedule steps and actions, op
// values and words, vCPUs and flags. Rounds repeat until one changes
// nothing (a fixpoint) or the run budget is spent. No accepted candidate is
// larger than the program it replaces in any of ProgramSize's counts.
#ifndef RECLAIMFUZZ_TOOLS_CLI_MINIMIZE_H_
#define RECLAIMFUZZ_TOOLS_CLI_MINIMIZE_H_

#include <functional>
#include <string>

#include "engine/storage/variant.h"
#include "fuzz/program.h"
#include "tools/cli/common.h"

namespace reclaimfuzz::cli {

struct MinimizeOptions {
  int max_runs = 20000;  // executions before giving up (the result is still valid)
  // What must stay the same, for a candidate: by default the finding's
  // name on the model (RunOnce). The campaign keeps the finding's title
  // (name and where, fuzz::Finding::Title()), on the model or, for a
  // sanitizer's finding, on the fuzz target (target_replay.h); `finding`
  // is then that title.
  std::function<std::string(const fuzz::Program&)> identity;
};

struct MinimizeResult {
  fuzz::Program program;
  std::string finding;
  int runs = 0;
  int rounds = 0;
  bool budget_spent = false;  // stopped by max_runs rather than at a fixpoint
  ProgramSize before, after;
};

// `p` must give `finding` on `v` (checked first; if not, the result is `p`
// with runs == 1 and finding set to what it gave).
MinimizeResult Minimize(const fuzz::Program& p, storage::Variant v, const std::string& finding,
                        const MinimizeOptions& options = {});

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_MINIMIZE_H_
