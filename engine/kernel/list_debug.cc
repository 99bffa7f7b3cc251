// SPDX-License-Identifier: MIT
#include "engine/report/report.h"
#include "engine/kernel/list.h"
#include "engine/kernel/slab.h"

namespace reclaimfuzz::kernel::internal {

void list_corruption(const char* what, const void* node) {
  const int64_t id = slab::IdContaining(node);
  check::Report(check::kListCorruption, id, "list_debug: %s%s", what,
                id >= 0 ? " (node inside the object below)" : "");
}

}  // namespace reclaimfuzz::kernel::internal
