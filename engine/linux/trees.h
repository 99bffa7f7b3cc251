/* SPDX-License-Identifier: MIT */
// The kernel trees compiled into this binary (engine/linux/CMakeLists.txt).
#ifndef RECLAIMFUZZ_ENGINE_LINUX_TREES_H_
#define RECLAIMFUZZ_ENGINE_LINUX_TREES_H_

#include <string>
#include <vector>

#include "engine/linux/tree.h"

namespace reclaimfuzz::linux_tree {

struct TreeInfo {
  const char* name;     // the variant name, e.g. "linux-6.12"
  const rf_tree* tree;  // its entry points
  const char* version;  // "6.12.117", from the tree's Makefile
};

// Every compiled tree, in build order.
const std::vector<TreeInfo>& Trees();
// The tree named `name`, or nullptr if this build has none of that name.
const TreeInfo* FindTree(const std::string& name);

}  // namespace reclaimfuzz::linux_tree

#endif  // RECLAIMFUZZ_ENGINE_LINUX_TREES_H_
