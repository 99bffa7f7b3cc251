// SPDX-License-Identifier: MIT
#include "engine/linux/trees.h"

extern "C" {
#define RF_TREE(name, symbol, version) extern const struct rf_tree symbol;
#include "trees.inc"
#undef RF_TREE
}

namespace reclaimfuzz::linux_tree {

const std::vector<TreeInfo>& Trees() {
  static const auto* trees = new std::vector<TreeInfo>{
#define RF_TREE(name, symbol, version) TreeInfo{name, &symbol, version},
#include "trees.inc"
#undef RF_TREE
  };
  return *trees;
}

const TreeInfo* FindTree(const std::string& name) {
  for (const TreeInfo& t : Trees()) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

}  // namespace reclaimfuzz::linux_tree
