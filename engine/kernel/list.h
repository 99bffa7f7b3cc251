// SPDX-License-Identifier: MIT
// Doubly linked lists: hlist (include/linux/list.h, rculist.h) and
// list_head, with CONFIG_DEBUG_LIST-style checks.
//
// Concurrency contract (as the kernel's): writers of one list must be
// serialized by the caller (a lock, or IRQs off on the owning CPU for a
// per-CPU list). The _rcu variants publish with a release store so RCU
// readers may walk the list concurrently with one writer. Nothing here is
// safe against a concurrent writer in an interrupt on the same CPU: that is
// what llist.h is for.
//
// Each pointer access is a preemption point, so an interrupt or another vCPU
// can run in the middle of an add or delete. The checks report
// "list-corruption": adding a node that is still linked, deleting a node
// twice (poisoned), next/prev links that do not agree, or an add whose old
// first node left the list while the add ran; and "use-after-free" when a
// node the update is about to read or write is in freed memory. They run
// before the access, so a corrupted list stops the execution with a named
// finding rather than a sanitizer report or a wild pointer.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_LIST_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_LIST_H_

#include <cstddef>
#include <cstdint>

#include "engine/kernel/compiler.h"

namespace reclaimfuzz::kernel {

// Poison values, as include/linux/poison.h (without POISON_POINTER_DELTA).
#define LIST_POISON1 (reinterpret_cast<void*>(0x100))
#define LIST_POISON2 (reinterpret_cast<void*>(0x122))

struct hlist_node {
  hlist_node* next = nullptr;
  hlist_node** pprev = nullptr;
};
struct hlist_head {
  hlist_node* first = nullptr;
};

namespace internal {
// Out of line: formats and reports list-corruption (never returns).
[[noreturn]] void list_corruption(const char* what, const void* node);
// An add's store into the old first node's pprev, checked at the store
// (after its preemption point, so after whatever ran since the add read
// h->first): `first` must still be on h, as h->first or behind a live node
// that points at it. If an unserialized writer took it off the list in
// between, its memory may already serve another purpose (an rcu_head
// queued for a callback shares the union of bpf_local_storage_elem), and
// the store would corrupt that silently: reported as list-corruption. A
// first that was freed is a use-after-free (node_check_live()).
void hlist_add_check_first(const hlist_node* first, const hlist_head* h);
// Before a check or an update reads through p (a node, or a node's next or
// pprev slot): if p lies in an object this execution freed, the list still
// links freed memory, and the read would be a use-after-free. Reported as
// use-after-free at once (the object's sites in the report), so the
// execution stops before the stale access ASan would report (or, without
// ASan, read garbage). Memory outside the heap (a per-CPU list head) passes.
void node_check_live(const void* p, const char* what);
}  // namespace internal

inline void INIT_HLIST_HEAD(hlist_head* h) { WRITE_ONCE(h->first, nullptr); }
inline void INIT_HLIST_NODE(hlist_node* n) {
  n->next = nullptr;
  n->pprev = nullptr;
}
inline bool hlist_unhashed(const hlist_node* n) { return n->pprev == nullptr; }
inline bool hlist_unhashed_lockless(const hlist_node* n) { return READ_ONCE(n->pprev) == nullptr; }
inline bool hlist_empty(const hlist_head* h) { return READ_ONCE(h->first) == nullptr; }
inline bool hlist_is_singular_node(hlist_node* n, hlist_head* h) { return n->next == nullptr && n->pprev == &h->first; }

namespace internal {
inline void hlist_add_check(hlist_node* n, hlist_head* h) {
  node_check_live(n, "hlist_add_head: the node to add");
  if (n->pprev != nullptr && n->pprev != reinterpret_cast<hlist_node**>(LIST_POISON2)) {
    list_corruption("hlist_add_head: node is already on a list", n);
  }
  hlist_node* first = h->first;
  if (first != nullptr) node_check_live(first, "hlist_add_head: head->first");
  if (first != nullptr && first->pprev != &h->first) {
    list_corruption("hlist_add_head: head->first->pprev does not point back at the head", n);
  }
}
inline void hlist_del_check(hlist_node* n) {
  node_check_live(n, "hlist_del: the node");
  if (n->pprev == reinterpret_cast<hlist_node**>(LIST_POISON2)) {
    list_corruption("hlist_del: node was already deleted (pprev is LIST_POISON2)", n);
  }
  if (n->pprev == nullptr) list_corruption("hlist_del: node is not on a list", n);
  node_check_live(n->pprev, "hlist_del: the previous node (pprev)");
  if (*n->pprev != n) list_corruption("hlist_del: *pprev does not point at the node", n);
  if (n->next == reinterpret_cast<hlist_node*>(LIST_POISON1)) {
    list_corruption("hlist_del: next is LIST_POISON1 (deleted, then linked again by pprev only)", n);
  }
  if (n->next != nullptr) node_check_live(n->next, "hlist_del: the next node");
  if (n->next != nullptr && n->next->pprev != &n->next) {
    list_corruption("hlist_del: next->pprev does not point at the node", n);
  }
}

// WRITE_ONCE(first->pprev, &n->next) of an add, with
// hlist_add_check_first() between the preemption point and the store.
inline void hlist_add_store_first_pprev(hlist_node* first, hlist_head* h, hlist_node* n) {
  preemption_point(sched::PointKind::kAccess, "WRITE_ONCE(first->pprev)");
  hlist_add_check_first(first, h);
  __atomic_store_n(&first->pprev, &n->next, __ATOMIC_RELAXED);
}
}  // namespace internal

inline void hlist_add_head(hlist_node* n, hlist_head* h) {
  internal::hlist_add_check(n, h);
  hlist_node* first = READ_ONCE(h->first);
  WRITE_ONCE(n->next, first);
  if (first != nullptr) internal::hlist_add_store_first_pprev(first, h, n);
  WRITE_ONCE(h->first, n);
  WRITE_ONCE(n->pprev, &h->first);
}

// Publishes n to RCU readers walking h.
inline void hlist_add_head_rcu(hlist_node* n, hlist_head* h) {
  internal::hlist_add_check(n, h);
  hlist_node* first = READ_ONCE(h->first);
  WRITE_ONCE(n->next, first);
  WRITE_ONCE(n->pprev, &h->first);
  smp_store_release(&h->first, n);  // rcu_assign_pointer(hlist_first_rcu(h), n)
  if (first != nullptr) internal::hlist_add_store_first_pprev(first, h, n);
}

inline void hlist_del_internal(hlist_node* n) {
  internal::hlist_del_check(n);
  hlist_node* next = READ_ONCE(n->next);
  hlist_node** pprev = READ_ONCE(n->pprev);
  WRITE_ONCE(*pprev, next);
  if (next != nullptr) WRITE_ONCE(next->pprev, pprev);
}

inline void hlist_del(hlist_node* n) {
  hlist_del_internal(n);
  WRITE_ONCE(n->next, reinterpret_cast<hlist_node*>(LIST_POISON1));
  WRITE_ONCE(n->pprev, reinterpret_cast<hlist_node**>(LIST_POISON2));
}

inline void hlist_del_init(hlist_node* n) {
  if (!hlist_unhashed(n)) {
    hlist_del_internal(n);
    n->next = nullptr;
    WRITE_ONCE(n->pprev, nullptr);
  }
}

// RCU readers may still be at n: its next pointer stays valid.
inline void hlist_del_init_rcu(hlist_node* n) {
  if (!hlist_unhashed(n)) {
    hlist_del_internal(n);
    WRITE_ONCE(n->pprev, nullptr);
  }
}

// Iteration. The _safe form allows deleting the current entry; the _rcu
// form must run inside an RCU read section of the right flavour.
// Evaluates ptr once (a statement expression, as the kernel's): ptr is a
// marked load, and a second load could see a different value.
#define hlist_entry_safe(ptr, type, member)                                              \
  ({                                                                                     \
    auto* hlist_entry_safe_ptr_ = (ptr);                                                 \
    hlist_entry_safe_ptr_ != nullptr ? container_of(hlist_entry_safe_ptr_, type, member) \
                                     : static_cast<type*>(nullptr);                      \
  })

#define hlist_for_each_entry(pos, head, type, member)                       \
  for (pos = hlist_entry_safe(READ_ONCE((head)->first), type, member); pos; \
       pos = hlist_entry_safe(READ_ONCE((pos)->member.next), type, member))

//
// The _rcu walk's loads are rcu_dereference()s, as the kernel's
// (hlist_first_rcu(), hlist_next_rcu()): each node it reaches is reported to
// the generic reclamation oracle (engine/check/reclaim.h, NoteRcuDeref), so
// a node freed while the walker is still inside its read section is
// reader-saw-freed at the free, before the walk's stale load.
namespace rcu_internal {
// engine/rcu's hook (rcu.h), installed by check::ResetOracles().
extern void (*g_deref_hook)(const void* p, const char* what);
inline hlist_node* deref_node(hlist_node* p, const char* what) {
  if (g_deref_hook != nullptr) g_deref_hook(p, what);
  return p;
}
}  // namespace rcu_internal
#define hlist_for_each_entry_rcu(pos, head, type, member)                                                           \
  for (pos = hlist_entry_safe(::reclaimfuzz::kernel::rcu_internal::deref_node(smp_load_acquire(&(head)->first),     \
                                                                              "hlist_first_rcu(" #head ")"),        \
                              type, member);                                                                        \
       pos;                                                                                                         \
       pos = hlist_entry_safe(::reclaimfuzz::kernel::rcu_internal::deref_node(                                      \
                                  smp_load_acquire(&(pos)->member.next), "hlist_next_rcu(&" #pos "->" #member ")"), \
                              type, member))

#define hlist_for_each_entry_safe(pos, n, head, type, member)          \
  for (pos = hlist_entry_safe(READ_ONCE((head)->first), type, member); \
       pos && ((n = READ_ONCE((pos)->member.next)), true); pos = hlist_entry_safe(n, type, member))

// ---- list_head ----------------------------------------------------------------

struct list_head {
  list_head* next;
  list_head* prev;
};

inline void INIT_LIST_HEAD(list_head* l) {
  WRITE_ONCE(l->next, l);
  WRITE_ONCE(l->prev, l);
}
inline bool list_empty(const list_head* h) { return READ_ONCE(h->next) == h; }

inline void list_add_between(list_head* n, list_head* prev, list_head* next) {
  // __list_add_valid()
  if (next->prev != prev) internal::list_corruption("list_add: next->prev != prev", n);
  if (prev->next != next) internal::list_corruption("list_add: prev->next != next", n);
  if (n == prev || n == next) internal::list_corruption("list_add: double add", n);
  WRITE_ONCE(next->prev, n);
  WRITE_ONCE(n->next, next);
  WRITE_ONCE(n->prev, prev);
  WRITE_ONCE(prev->next, n);
}
inline void list_add(list_head* n, list_head* h) { list_add_between(n, h, h->next); }
inline void list_add_tail(list_head* n, list_head* h) { list_add_between(n, h->prev, h); }

inline void list_del(list_head* e) {
  // __list_del_entry_valid()
  if (e->next == reinterpret_cast<list_head*>(LIST_POISON1)) {
    internal::list_corruption("list_del: next is LIST_POISON1 (deleted twice?)", e);
  }
  if (e->prev == reinterpret_cast<list_head*>(LIST_POISON2)) {
    internal::list_corruption("list_del: prev is LIST_POISON2 (deleted twice?)", e);
  }
  if (e->prev->next != e) internal::list_corruption("list_del: prev->next != entry", e);
  if (e->next->prev != e) internal::list_corruption("list_del: next->prev != entry", e);
  list_head* next = READ_ONCE(e->next);
  list_head* prev = READ_ONCE(e->prev);
  WRITE_ONCE(next->prev, prev);
  WRITE_ONCE(prev->next, next);
  WRITE_ONCE(e->next, reinterpret_cast<list_head*>(LIST_POISON1));
  WRITE_ONCE(e->prev, reinterpret_cast<list_head*>(LIST_POISON2));
}

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_LIST_H_
