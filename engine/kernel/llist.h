// SPDX-License-Identifier: MIT
// Lock-less NULL-terminated singly linked lists (include/linux/llist.h).
//
// Concurrency contract, the kernel's table: with no lock,
//   llist_add     may run concurrently with llist_add and llist_del_all
//                 (from any context, including NMI: it is a cmpxchg loop);
//   llist_del_all may run concurrently with llist_add and llist_del_all
//                 (a single xchg);
// so a per-CPU llist can be pushed by a task, a hardirq and an NMI on the
// same CPU while a worker pops everything. That is the fix B1 needs.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_LLIST_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_LLIST_H_

#include "engine/kernel/compiler.h"

namespace reclaimfuzz::kernel {

struct llist_node {
  llist_node* next = nullptr;
};
struct llist_head {
  llist_node* first = nullptr;
};

inline void init_llist_head(llist_head* h) { WRITE_ONCE(h->first, nullptr); }
inline bool llist_empty(const llist_head* h) { return READ_ONCE(h->first) == nullptr; }

// Returns true if the list was empty before the add.
inline bool llist_add(llist_node* n, llist_head* h) {
  llist_node* first = READ_ONCE(h->first);
  for (;;) {
    WRITE_ONCE(n->next, first);
    llist_node* seen = cmpxchg(&h->first, first, n);
    if (seen == first) return first == nullptr;
    first = seen;
  }
}

inline llist_node* llist_del_all(llist_head* h) { return xchg(&h->first, nullptr); }

#define llist_entry(ptr, type, member) container_of(ptr, type, member)

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_LLIST_H_
