// SPDX-License-Identifier: MIT
// Where the engine variants differ: what a helper path (delete, update)
// does with the objects it unlinked once its locks are released.
//
//   v4, v4-srcu-fix     free now: bpf_selem_free()/bpf_local_storage_free()
//                       with the caller's reuse_now, i.e. call_rcu() or
//                       call_rcu_tasks_trace() in the caller's context (which
//                       may hold the scheduler's rq lock: B3; or be an NMI).
//   always-defer-v1     "bpf: Always defer local storage free" as posted
//                       (docs/always-defer-review.md): from bpf_selem_unlink()
//                       the selems go onto the per-CPU hlist
//                       bpf_deferred_selem_free_list and the storage onto
//                       bpf_deferred_storage_free_list with hlist_add_head()
//                       after unlock, IRQs on (B1); a per-CPU atomic pending
//                       flag arms call_rcu(), whose callback queue_work_on()s
//                       bpf_deferred_free_work_fn, which frees everything with
//                       reuse_now=true, i.e. behind regular RCU only (B2).
//   always-defer-fixed  the same idea done right: per-CPU llists (cmpxchg
//                       push, xchg pop-all: safe against same-CPU interrupts),
//                       each item keeps its reuse_now, and the path out of the
//                       caller is irq_work_queue() (NMI-safe) -> irq_work ->
//                       queue_work_on() -> work fn -> bpf_selem_free(reuse_now).
//                       map_free flushes these frees before its barriers.
//
// Per-CPU state (kernel names from the posted patch):
//   bpf_deferred_selem_free_list, bpf_deferred_storage_free_list (v1, hlist)
//     written by programs on this CPU in task, hardirq and NMI context and by
//     the kworker of this CPU, with no lock and IRQs on: the bug.
//   bpf_deferred_free_pending (v1, atomic_t), bpf_deferred_free_rcu (v1)
//   bpf_deferred_selem_llist, bpf_deferred_storage_llist (fixed, llist):
//     any context may llist_add; the kworker of this CPU llist_del_all()s.
//   bpf_deferred_free_irq_work (fixed), bpf_deferred_free_work (both).
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_DEFER_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_DEFER_H_

#include "engine/storage/bpf_local_storage.h"

namespace reclaimfuzz::storage {

// Which helper path freed the objects (v1 defers only bpf_selem_unlink's).
enum class FreeSite : u8 {
  kUnlink,     // bpf_selem_unlink(): delete helpers and syscalls
  kUpdateOld,  // bpf_local_storage_update(): the replaced selem
  kErrorPath,  // update/alloc error paths: never-published objects
};

// Frees the selems on `selem_free_list` and, if `free_local_storage`, the
// storage, after the caller released L_s and L_b. Any context.
void bpf_local_storage_free_unlinked(hlist_head* selem_free_list, bpf_local_storage* local_storage,
                                     bool free_local_storage, bool reuse_now, FreeSite site);
// Single objects freed on helper error paths (never published).
void bpf_selem_free_helper(bpf_local_storage_elem* selem, bool reuse_now);
void bpf_local_storage_free_helper(bpf_local_storage* local_storage, bool reuse_now);

// always-defer-fixed: waits until every deferred free queued so far has been
// handed to bpf_selem_free()/bpf_local_storage_free(), so that map_free's
// rcu_barrier*() calls cover their callbacks (INV-map-barrier). Process
// context; sleeps. A no-op for the other variants (v1 as posted has no
// such flush).
void bpf_local_storage_deferred_flush();

namespace defer {
// Starts an execution: empties the per-CPU lists and flags.
void Reset();
// Objects sitting on a deferred list right now (for tests and reports).
int NumDeferred(int cpu);
}  // namespace defer

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_DEFER_H_
