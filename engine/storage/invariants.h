// SPDX-License-Identifier: MIT
// The model's named invariants (docs/kernel-model.md §7; names in
// bpf_local_storage.h), checked where the model can state them cheaply.
// A violation is the finding "invariant:<name>".
//
// The checks read model memory with plain relaxed atomics, never through
// the shim: they add no preemption point, so turning them on or off does
// not change the schedule (and TSan sees atomic reads, not races).
// All may run in interrupt context and allocate nothing.
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_INVARIANTS_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_INVARIANTS_H_

#include "engine/storage/bpf_local_storage.h"

namespace reclaimfuzz::storage {

// Static names of the model's rqspinlocks (lockdep and INV-free-unlocked).
inline constexpr char kStorageLockName[] = "local_storage->lock";
inline constexpr char kBucketLockName[] = "b->lock";
// Allocation type names (reports, and INV-map-barrier's type check).
inline constexpr char kMapObjectType[] = "bpf_local_storage_map";
inline constexpr char kBucketsObjectType[] = "bpf_local_storage_map_bucket[]";
inline constexpr char kStorageObjectType[] = "bpf_local_storage";
inline constexpr char kSelemObjectType[] = "bpf_local_storage_elem";

namespace invariants {

// The running context holds L_s of `local_storage` and is about to release
// it: INV-cache-linked, INV-owner-storage, INV-mem-charge. Skipped while the
// owner is going away (destroy keeps neither, by design).
void CheckStorageBeforeUnlock(bpf_local_storage* local_storage);

// A free path that queues an RCU callback is about to run in the current
// context: INV-free-unlocked.
void CheckNoStorageLockHeld(const char* what);

// A free callback is about to dereference smap: INV-map-barrier.
void CheckMapAlive(const bpf_local_storage_map* smap, const char* what);

}  // namespace invariants

// raw_res_spin_unlock_irqrestore(&local_storage->lock, flags), after the
// invariant checks.
void bpf_local_storage_unlock(bpf_local_storage* local_storage, kernel::irqflags_t flags);

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_INVARIANTS_H_
