// SPDX-License-Identifier: MIT
// The bug benchmark's counters (engine/linux/include/rf_bug.h): how often
// the injected bug's code ran (reached) and how often its broken state held
// (triggered), summed over the process. Only bug variants (patches/bugs/)
// call the hooks, so for every other variant both stay zero.
//
// RECLAIMFUZZ_BUG_LOG=PREFIX also records the first time of each, for
// tools/reclaimfuzz bench --bugs: the files PREFIX.reached and
// PREFIX.triggered are created (O_EXCL: the first process that gets there
// wins, AFL++'s forked children included) holding the wall-clock time in
// nanoseconds since the epoch.
#ifndef RECLAIMFUZZ_ENGINE_LINUX_BUG_H_
#define RECLAIMFUZZ_ENGINE_LINUX_BUG_H_

#include <cstdint>

namespace reclaimfuzz::linux_tree {

struct BugCounts {
  uint64_t reached = 0;
  uint64_t triggered = 0;
};
BugCounts BugCounters();

}  // namespace reclaimfuzz::linux_tree

#endif  // RECLAIMFUZZ_ENGINE_LINUX_BUG_H_
