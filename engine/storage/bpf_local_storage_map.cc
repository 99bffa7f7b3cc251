// SPDX-License-Identifier: MIT
// Map lifetime and owner teardown (docs/kernel-model.md §2.5-2.7): map
// alloc with the cache slot, bpf_selem_unlink_nofail(), bpf_local_storage_destroy()
// and bpf_local_storage_map_free().
//
// destroy (the owner is dying) and map_free (the map's last reference is
// gone) are the only unlinkers left once programs cannot reach an owner or
// a map, and they may race on the same selem. Neither may fail, so each
// unlinks what it can lock and records the rest in selem->state:
//
//   unlink == 2        this caller took both sides: it frees;
//   otherwise          state |= MAP_UNLINKED (map_free) or STORAGE_UNLINKED
//                      (destroy); whoever moves it UNLINKED -> TOFREE frees.
//
// Exactly one of the two frees each selem (INV: a selem is freed once).
#include "engine/check/reclaim.h"
#include "engine/kernel/context.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/bpf_local_storage.h"
#include "engine/storage/defer.h"
#include "engine/storage/invariants.h"
#include "engine/storage/variant.h"

namespace reclaimfuzz::storage {
namespace {

using kernel::irqflags_t;

void Note(const char* label, int64_t arg) {
  if (sched::Scheduler* s = sched::Scheduler::Current()) s->Note(label, arg);
}

bool selem_linked_to_storage(const bpf_local_storage_elem* selem) { return !kernel::hlist_unhashed(&selem->snode); }

bool selem_linked_to_map(const bpf_local_storage_elem* selem) { return !kernel::hlist_unhashed(&selem->map_node); }

u16 bpf_local_storage_cache_idx_get(bpf_local_storage_cache* cache) {
  u64 min_usage = UINT64_MAX;
  u16 res = 0;
  kernel::spin_lock(&cache->idx_lock);
  for (u16 i = 0; i < BPF_LOCAL_STORAGE_CACHE_SIZE; i++) {
    if (cache->idx_usage_counts[i] < min_usage) {
      min_usage = cache->idx_usage_counts[i];
      res = i;
      if (min_usage == 0) break;  // found a free cache_idx
    }
  }
  cache->idx_usage_counts[res]++;
  kernel::spin_unlock(&cache->idx_lock);
  return res;
}

void bpf_local_storage_cache_idx_free(bpf_local_storage_cache* cache, u16 idx) {
  kernel::spin_lock(&cache->idx_lock);
  cache->idx_usage_counts[idx]--;
  kernel::spin_unlock(&cache->idx_lock);
}

u32 roundup_pow_of_two(u32 n) {
  u32 p = 1;
  while (p < n) p <<= 1;
  return p;
}

u32 ilog2(u32 n) {
  u32 l = 0;
  while ((1u << (l + 1)) <= n) ++l;
  return l;
}

}  // namespace

// Unlinks a selem from map and storage with a lockless fallback when the
// callers race or an rqspinlock fails. Only destroy (b == NULL) and map_free
// (b set) call it; both hold rcu_read_lock().
void bpf_selem_unlink_nofail(bpf_local_storage_elem* selem, bpf_local_storage_map_bucket* b) {
  const bool in_map_free = b != nullptr;
  bool free_storage = false;
  irqflags_t flags;
  int err = 0;
  int unlink = 0;

  bpf_local_storage* local_storage = rcu_dereference_check(selem->local_storage, 1);
  bpf_local_storage_map* smap = rcu_dereference_check(SDATA(selem)->smap, 1);

  if (smap != nullptr) {
    b = b != nullptr ? b : select_bucket(smap, local_storage);
    err = raw_res_spin_lock_irqsave(&b->lock, flags);
    if (!err) {
      // Free the special fields under b->lock, exactly once per selem, while
      // the map is alive. No program references the selem any more.
      if (selem_linked_to_map(selem)) {
        kernel::hlist_del_init_rcu(&selem->map_node);
        bpf_obj_free_fields(smap->map.record, SDATA(selem)->data);
        unlink++;
      }
      kernel::raw_res_spin_unlock_irqrestore(&b->lock, flags);
    }
    // Documented gap: map_free could not lock b (a racing destroy of another
    // selem held it too long): this selem's special fields leak.
    if (err && in_map_free) Note("WARN: map_free could not take b->lock: fields may leak", err);
    if (!err || in_map_free) RCU_INIT_POINTER(SDATA(selem)->smap, nullptr);
  }

  if (local_storage != nullptr) {
    err = raw_res_spin_lock_irqsave(&local_storage->lock, flags);
    // The fix of docs/findings/destroy-timeout-leak.md: upstream, destroy
    // gives up on a timeout and, when it unlinked the map side itself, no
    // one ever unlinks the storage side: the element and the storage leak.
    // Only map_free can hold the lock here, for a bounded time, and destroy
    // holds no other lock, so waiting cannot deadlock.
    while (err == -ETIMEDOUT && !in_map_free && DestroyWaitsForStorageLock(current_variant())) {
      kernel::preemption_point(sched::PointKind::kSpin, "destroy: retry local_storage->lock");
      err = raw_res_spin_lock_irqsave(&local_storage->lock, flags);
    }
    if (!err) {
      if (selem_linked_to_storage(selem)) {
        free_storage = kernel::hlist_is_singular_node(&selem->snode, &local_storage->list);
        // destroy may skip clearing owner->storage and storage->owner: the
        // owner is going away and nothing can reference it.
        if (smap != nullptr && in_map_free) {
          bpf_selem_unlink_storage_nolock_misc(selem, smap, local_storage, free_storage, true);
        }
        kernel::hlist_del_init_rcu(&selem->snode);
        unlink++;
      }
      bpf_local_storage_unlock(local_storage, flags);
    }
    if (!err || !in_map_free) RCU_INIT_POINTER(selem->local_storage, nullptr);
  }

  if (unlink != 2) {
    kernel::atomic_or(in_map_free ? SELEM_MAP_UNLINKED : SELEM_STORAGE_UNLINKED, &selem->state);
    Note(in_map_free ? "nofail(map_free): one side unlinked" : "nofail(destroy): one side unlinked",
         kernel::slab::IdOf(selem));
  }

  // Normally both sides are unlinked here and the selem is freed after a GP.
  // If destroy and map_free race, or a lock failed, the second of the two
  // to see the selem frees it.
  if (unlink == 2 || kernel::atomic_cmpxchg(&selem->state, SELEM_UNLINKED, SELEM_TOFREE) == SELEM_UNLINKED) {
    // V4: only RCU walkers (destroy, map_free) can still reach it. With
    // the map_free fix, map_free's element waits for Tasks Trace: a
    // sleepable program of another map walking the owner's list may hold it.
    const bool trace = in_map_free && MapFreeTasksTrace(current_variant());
    check::NoteUnlinked(selem, trace ? check::Readers::kPrograms : check::Readers::kRcu);
    bpf_selem_free(selem, /*reuse_now=*/!trace);
  }

  if (free_storage) {
    // The storage is shared by every map of the owner: a sleepable program
    // of another map may hold it (docs/findings/map-free-use-after-free.md).
    // V4 frees it after a regular grace period; the fix, behind Tasks Trace.
    const bool trace = in_map_free && MapFreeTasksTrace(current_variant());
    check::NoteUnlinked(local_storage, trace ? check::Readers::kPrograms : check::Readers::kRcu);
    bpf_local_storage_free(local_storage, /*reuse_now=*/!trace);
  }
}

// The owner is going away (its free hook, under rcu_read_lock()): no program
// or syscall can add or delete now; only map_free can race. Returns what is
// still charged to the owner; the caller uncharges it.
u32 bpf_local_storage_destroy(bpf_local_storage* local_storage) {
  bpf_local_storage_elem* selem;
  // MODEL: tells the invariant checks that destroy keeps neither the cache
  // nor owner->storage (not a kernel field).
  __atomic_store_n(&local_storage->model_destroying, true, __ATOMIC_RELAXED);

  hlist_for_each_entry_rcu(selem, &local_storage->list, bpf_local_storage_elem, snode) {
    bpf_selem_unlink_nofail(selem, nullptr);
  }

  if (!kernel::refcount_dec_and_test(&local_storage->owner_refcnt)) {
    // A map_free is uncharging against this owner: wait for it.
    // MODEL: the kernel spins on refcount_read() and then smp_mb(); an
    // acquire load orders the same way and TSan understands it.
    while (smp_load_acquire(&local_storage->owner_refcnt.refs.counter) != 0) {
      kernel::preemption_point(sched::PointKind::kSpin, "cpu_relax (owner_refcnt)");
    }
  }
  return static_cast<u32>(local_storage->mem_charge);
}

bpf_local_storage_map* bpf_local_storage_map_alloc(u32 value_size, u32 map_flags, const btf_record& record,
                                                   const bpf_map_ops* ops) {
  auto* smap = static_cast<bpf_local_storage_map*>(
      kernel::kzalloc(sizeof(bpf_local_storage_map), kernel::GFP_KERNEL, kMapObjectType));
  if (smap == nullptr) return nullptr;
  smap->map.ops = ops;
  smap->map.value_size = value_size;
  smap->map.map_flags = map_flags;
  smap->map.record_storage = record;
  smap->map.record = &smap->map.record_storage;
  smap->map.model_id = kernel::slab::IdOf(smap);

  sched::Scheduler* s = sched::Scheduler::Current();
  u32 nbuckets = roundup_pow_of_two(s != nullptr ? static_cast<u32>(s->num_vcpus()) : 1);
  // At least 2 buckets: select_bucket() is undefined with 1.
  nbuckets = nbuckets < 2 ? 2 : nbuckets;
  smap->bucket_log = ilog2(nbuckets);
  smap->buckets = static_cast<bpf_local_storage_map_bucket*>(
      kernel::kzalloc(sizeof(bpf_local_storage_map_bucket) * nbuckets, kernel::GFP_KERNEL, kBucketsObjectType));
  if (smap->buckets == nullptr) {
    kernel::kfree(smap);
    return nullptr;
  }
  for (u32 i = 0; i < nbuckets; i++) {
    kernel::INIT_HLIST_HEAD(&smap->buckets[i].list);
    kernel::raw_res_spin_lock_init(&smap->buckets[i].lock, kBucketLockName);
  }

  smap->elem_size =
      static_cast<u16>(offsetof(bpf_local_storage_elem, sdata) + offsetof(bpf_local_storage_data, data) + value_size);
  smap->use_kmalloc_nolock = ops->use_kmalloc_nolock;
  smap->cache_idx = bpf_local_storage_cache_idx_get(ops->cache);
  return smap;
}

// From the map's deferred free (process context, may sleep), after the last
// reference is gone: no program or syscall uses the map any more.
void bpf_local_storage_map_free(bpf_map* map, bpf_local_storage_cache* cache) {
  auto* smap = reinterpret_cast<bpf_local_storage_map*>(map);
  bpf_local_storage_cache_idx_free(cache, smap->cache_idx);

  // bpf_sk_storage_clone() readers may still use the map.
  kernel::synchronize_rcu();

  // No new selem of this map can be added to an owner or a bucket now.
  for (u32 i = 0; i < (1u << smap->bucket_log); i++) {
    bpf_local_storage_map_bucket* b = &smap->buckets[i];
    bpf_local_storage_elem* selem;
    kernel::rcu_read_lock();
    // MODEL: no need_resched()/cond_resched_rcu() restart.
    hlist_for_each_entry_rcu(selem, &b->list, bpf_local_storage_elem, map_node) { bpf_selem_unlink_nofail(selem, b); }
    kernel::rcu_read_unlock();
  }

  // destroy() may still be reading smap->elem_size and cache_idx.
  kernel::synchronize_rcu();

  // always-defer-fixed only: the deferred frees must be queued before the
  // barriers below, or their callbacks would touch a freed smap.
  bpf_local_storage_deferred_flush();

  // Pending free callbacks dereference smap, whatever the allocator.
  kernel::rcu_barrier_tasks_trace();
  kernel::rcu_barrier();
  kernel::kfree(smap->buckets);
  kernel::kfree(smap);
}

}  // namespace reclaimfuzz::storage
