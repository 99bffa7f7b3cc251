// SPDX-License-Identifier: MIT
#include "engine/kernel/list.h"
#include "engine/kernel/slab.h"
#include "engine/report/report.h"

namespace reclaimfuzz::kernel::internal {

void list_corruption(const char* what, const void* node) {
  const int64_t id = slab::IdContaining(node);
  check::Report(check::kListCorruption, id, "list_debug: %s%s", what, id >= 0 ? " (node inside the object below)" : "");
}

void node_check_live(const void* p, const char* what) {
  if (slab::IdContaining(p) >= 0) return;
  const int64_t freed = slab::FreedIdContaining(p);
  if (freed < 0) return;  // not heap memory of this execution
  check::Report(check::kUseAfterFree, freed,
                "list_debug: %s is inside the object below, freed while the list still links it", what);
}

void hlist_add_check_first(const hlist_node* first, const hlist_head* h) {
  node_check_live(first, "hlist_add_head: the old first node");
  if (slab::IdContaining(first) < 0) return;  // not heap memory: nothing to check
  // Plain loads: this is the checker, not the code under test (no
  // preemption point may fall between the check and the store).
  hlist_node** pprev = __atomic_load_n(&first->pprev, __ATOMIC_RELAXED);
  if (pprev == &h->first) return;  // nobody relinked it
  if (pprev != nullptr && pprev != reinterpret_cast<hlist_node**>(LIST_POISON2) && slab::IdContaining(pprev) >= 0 &&
      __atomic_load_n(pprev, __ATOMIC_RELAXED) == first) {
    return;  // another node was pushed in front of it: still on a list
  }
  list_corruption(
      "hlist_add_head: the old first node left the list during the add (an unserialized "
      "writer ran in between); storing into its pprev would corrupt what now uses its memory",
      first);
}

}  // namespace reclaimfuzz::kernel::internal
