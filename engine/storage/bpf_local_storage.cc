// SPDX-License-Identifier: MIT
// Lookup, update, delete: the program and syscall paths
// (docs/kernel-model.md §2.1-2.4).
#include "engine/storage/bpf_local_storage.h"

#include "engine/check/accounting.h"
#include "engine/check/reclaim.h"
#include "engine/kernel/context.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/defer.h"
#include "engine/storage/invariants.h"

namespace reclaimfuzz::storage {
namespace {

using kernel::irqflags_t;

void Note(const char* label, const void* obj) {
  if (sched::Scheduler* s = sched::Scheduler::Current()) s->Note(label, kernel::slab::IdOf(obj));
}

// WARN_ON_ONCE(!bpf_rcu_lock_held()) and friends: a lockdep-RCU splat.
void rcu_lockdep_assert_bpf_held(const char* where) {
  if (sched::Scheduler::Current() != nullptr && kernel::current_task_id() >= 0 && !kernel::bpf_rcu_lock_held()) {
    check::Report(check::kContextViolation, -1,
                  "%s called outside any RCU read-side critical section (bpf_rcu_lock_held() "
                  "is false)",
                  where);
  }
}

// hash_64() (include/linux/hash.h).
u32 hash_64(u64 val, u32 bits) { return static_cast<u32>((val * 0x61C8864680B583EBull) >> (64 - bits)); }

bool selem_linked_to_storage_lockless(const bpf_local_storage_elem* selem) {
  return !kernel::hlist_unhashed_lockless(&selem->snode);
}

bool selem_linked_to_storage(const bpf_local_storage_elem* selem) { return !kernel::hlist_unhashed(&selem->snode); }

int check_flags(const bpf_local_storage_data* old_sdata, u64 map_flags) {
  if (old_sdata != nullptr && (map_flags & ~BPF_F_LOCK) == BPF_NOEXIST) return -EEXIST;
  if (old_sdata == nullptr && (map_flags & ~BPF_F_LOCK) == BPF_EXIST) return -ENOENT;
  return 0;
}

void bpf_selem_link_map_nolock(bpf_local_storage_map_bucket* b, bpf_local_storage_elem* selem) {
  kernel::hlist_add_head_rcu(&selem->map_node, &b->list);
}

void bpf_selem_unlink_map_nolock(bpf_local_storage_elem* selem) { kernel::hlist_del_init_rcu(&selem->map_node); }

int bpf_selem_unlink_map(bpf_local_storage_elem* selem) {
  bpf_local_storage* local_storage = rcu_dereference_check(selem->local_storage, 1);
  bpf_local_storage_map* smap = rcu_dereference_check(SDATA(selem)->smap, 1);
  bpf_local_storage_map_bucket* b = select_bucket(smap, local_storage);
  irqflags_t flags;
  const int err = raw_res_spin_lock_irqsave(&b->lock, flags);
  if (err) return err;
  kernel::hlist_del_init_rcu(&selem->map_node);
  kernel::raw_res_spin_unlock_irqrestore(&b->lock, flags);
  return 0;
}

}  // namespace

int mem_charge(bpf_local_storage_map* smap, void* owner, u32 size) {
  const bpf_map_ops* ops = smap->map.ops;
  if (ops->map_local_storage_charge != nullptr) {
    const int err = ops->map_local_storage_charge(smap, owner, size);
    if (err) return err;
  }
  check::Charge(ops->model_owner_account(owner), size);
  return 0;
}

void mem_uncharge(bpf_local_storage_map* smap, void* owner, u32 size) {
  const bpf_map_ops* ops = smap->map.ops;
  if (ops->map_local_storage_uncharge != nullptr) ops->map_local_storage_uncharge(smap, owner, size);
  check::Charge(ops->model_owner_account(owner), -static_cast<int64_t>(size));
}

bpf_local_storage** owner_storage(bpf_local_storage_map* smap, void* owner) {
  return smap->map.ops->map_owner_storage_ptr(owner);
}

bpf_local_storage_map_bucket* select_bucket(bpf_local_storage_map* smap, bpf_local_storage* local_storage) {
  // MODEL: the kernel hashes the storage pointer; we hash its id so that
  // runs are deterministic.
  return &smap->buckets[hash_64(static_cast<u64>(local_storage->model_id), smap->bucket_log)];
}

void bpf_local_storage_unlock(bpf_local_storage* local_storage, irqflags_t flags) {
  invariants::CheckStorageBeforeUnlock(local_storage);
  kernel::raw_res_spin_unlock_irqrestore(&local_storage->lock, flags);
}

bpf_local_storage_elem* bpf_selem_alloc(bpf_local_storage_map* smap, void* owner, const u64* value, bool swap_uptrs,
                                        gfp_t gfp_flags) {
  (void)swap_uptrs;  // MODEL: no uptr fields
  if (mem_charge(smap, owner, smap->elem_size)) return nullptr;

  bpf_local_storage_elem* selem;
  if (smap->use_kmalloc_nolock) {
    selem = static_cast<bpf_local_storage_elem*>(
        kernel::kmalloc_nolock(smap->elem_size, kernel::__GFP_ZERO, kernel::NUMA_NO_NODE, kSelemObjectType));
  } else {
    selem = static_cast<bpf_local_storage_elem*>(kernel::kzalloc(smap->elem_size, gfp_flags, kSelemObjectType));
  }

  if (selem != nullptr) {
    RCU_INIT_POINTER(SDATA(selem)->smap, smap);
    kernel::atomic_set(&selem->state, 0);
    selem->use_kmalloc_nolock = smap->use_kmalloc_nolock;
    // No need to init special fields: the memory is zeroed.
    if (value != nullptr) copy_map_value(&smap->map, SDATA(selem)->data, value);
    return selem;
  }

  mem_uncharge(smap, owner, smap->elem_size);
  return nullptr;
}

// Requires L_s held and selem->local_storage == local_storage; smap valid.
void bpf_selem_unlink_storage_nolock_misc(bpf_local_storage_elem* selem, bpf_local_storage_map* smap,
                                          bpf_local_storage* local_storage, bool free_local_storage, bool pin_owner) {
  void* owner = local_storage->owner;
  u32 uncharge = smap->elem_size;

  if (rcu_access_pointer(local_storage->cache[smap->cache_idx]) == SDATA(selem)) {
    RCU_INIT_POINTER(local_storage->cache[smap->cache_idx], nullptr);
  }

  if (pin_owner && !kernel::refcount_inc_not_zero(&local_storage->owner_refcnt)) return;

  uncharge += free_local_storage ? sizeof(*local_storage) : 0;
  mem_uncharge(smap, local_storage->owner, uncharge);
  local_storage->mem_charge -= uncharge;

  if (free_local_storage) {
    local_storage->owner = nullptr;
    // After this, the owner may be freed and cannot be used.
    RCU_INIT_POINTER(*owner_storage(smap, owner), nullptr);
  }

  if (pin_owner) kernel::atomic_dec(&local_storage->owner_refcnt.refs);  // refcount_dec()
}

bool bpf_selem_unlink_storage_nolock(bpf_local_storage* local_storage, bpf_local_storage_elem* selem,
                                     hlist_head* free_selem_list) {
  bpf_local_storage_map* smap = rcu_dereference_check(SDATA(selem)->smap, 1);
  const bool free_local_storage = kernel::hlist_is_singular_node(&selem->snode, &local_storage->list);
  bpf_selem_unlink_storage_nolock_misc(selem, smap, local_storage, free_local_storage, false);
  kernel::hlist_del_init_rcu(&selem->snode);
  kernel::hlist_add_head(&selem->free_node, free_selem_list);
  return free_local_storage;
}

void bpf_selem_link_storage_nolock(bpf_local_storage* local_storage, bpf_local_storage_elem* selem) {
  bpf_local_storage_map* smap = rcu_dereference_check(SDATA(selem)->smap, 1);
  local_storage->mem_charge += smap->elem_size;
  RCU_INIT_POINTER(selem->local_storage, local_storage);
  kernel::hlist_add_head_rcu(&selem->snode, &local_storage->list);
}

// The common delete path: helpers and syscalls. Unlinks from the map before
// the storage, because the selem is freed once it is off the storage.
int bpf_selem_unlink(bpf_local_storage_elem* selem) {
  hlist_head selem_free_list{};
  bool free_local_storage = false;
  irqflags_t flags;

  if (!selem_linked_to_storage_lockless(selem)) return 0;  // already unlinked

  bpf_local_storage* local_storage = rcu_dereference_check(selem->local_storage, 1);
  int err = raw_res_spin_lock_irqsave(&local_storage->lock, flags);
  if (err) return err;

  if (selem_linked_to_storage(selem)) {
    err = bpf_selem_unlink_map(selem);
    if (err) goto out;
    free_local_storage = bpf_selem_unlink_storage_nolock(local_storage, selem, &selem_free_list);
    // Any program, sleepable ones too, may still hold these.
    check::NoteUnlinked(selem, check::Readers::kPrograms);
    if (free_local_storage) check::NoteUnlinked(local_storage, check::Readers::kPrograms);
  }
out:
  bpf_local_storage_unlock(local_storage, flags);

  bpf_local_storage_free_unlinked(&selem_free_list, local_storage, free_local_storage,
                                  /*reuse_now=*/false, FreeSite::kUnlink);
  return err;
}

namespace internal {

// Takes L_s so that a deleted sdata is never published to the cache: that
// would be a use-after-free in the next lookup.
void bpf_local_storage_insert_cache(bpf_local_storage* local_storage, bpf_local_storage_map* smap,
                                    bpf_local_storage_elem* selem) {
  irqflags_t flags;
  if (raw_res_spin_lock_irqsave(&local_storage->lock, flags)) return;  // skip caching
  if (selem_linked_to_storage(selem)) {
    rcu_assign_pointer(local_storage->cache[smap->cache_idx], SDATA(selem));
  }
  bpf_local_storage_unlock(local_storage, flags);
}

}  // namespace internal

bpf_local_storage_data* bpf_local_storage_lookup(bpf_local_storage* local_storage, bpf_local_storage_map* smap,
                                                 bool cacheit_lockit) {
  rcu_lockdep_assert_bpf_held("bpf_local_storage_lookup()");
  // Fast path (cache hit). Slots are shared between maps: check smap.
  bpf_local_storage_data* sdata = rcu_dereference_check(local_storage->cache[smap->cache_idx], 1);
  if (sdata != nullptr && rcu_access_pointer(sdata->smap) == smap) return sdata;

  // Slow path (cache miss).
  bpf_local_storage_elem* selem;
  hlist_for_each_entry_rcu(selem, &local_storage->list, bpf_local_storage_elem, snode) {
    if (rcu_access_pointer(SDATA(selem)->smap) == smap) break;
  }
  if (selem == nullptr) return nullptr;
  if (cacheit_lockit) internal::bpf_local_storage_insert_cache(local_storage, smap, selem);
  return SDATA(selem);
}

int bpf_local_storage_alloc(void* owner, bpf_local_storage_map* smap, bpf_local_storage_elem* first_selem,
                            gfp_t gfp_flags) {
  bpf_local_storage* prev_storage;
  bpf_local_storage* storage = nullptr;
  bpf_local_storage** owner_storage_ptr;
  bpf_local_storage_map_bucket* b;
  irqflags_t flags;

  int err = mem_charge(smap, owner, sizeof(*storage));
  if (err) return err;

  if (smap->use_kmalloc_nolock) {
    storage = static_cast<bpf_local_storage*>(
        kernel::kmalloc_nolock(sizeof(*storage), kernel::__GFP_ZERO, kernel::NUMA_NO_NODE, kStorageObjectType));
  } else {
    storage = static_cast<bpf_local_storage*>(kernel::kzalloc(sizeof(*storage), gfp_flags, kStorageObjectType));
  }
  if (storage == nullptr) {
    err = -ENOMEM;
    goto uncharge;
  }

  kernel::INIT_HLIST_HEAD(&storage->list);
  kernel::raw_res_spin_lock_init(&storage->lock, kStorageLockName);
  storage->owner = owner;
  storage->mem_charge = sizeof(*storage);
  storage->use_kmalloc_nolock = smap->use_kmalloc_nolock;
  kernel::refcount_set(&storage->owner_refcnt, 1);
  storage->model_id = kernel::slab::IdOf(storage);
  storage->model_ops = smap->map.ops;

  bpf_selem_link_storage_nolock(storage, first_selem);

  b = select_bucket(smap, storage);
  err = raw_res_spin_lock_irqsave(&b->lock, flags);
  if (err) goto uncharge;

  bpf_selem_link_map_nolock(b, first_selem);

  owner_storage_ptr = owner_storage(smap, owner);
  // Publish storage to the owner with no owner lock: cmpxchg works in any
  // context. From now on owner->storage is protected by storage->lock,
  // which must be held to set it to NULL.
  prev_storage = cmpxchg(owner_storage_ptr, nullptr, storage);
  if (prev_storage != nullptr) {
    bpf_selem_unlink_map_nolock(first_selem);
    kernel::raw_res_spin_unlock_irqrestore(&b->lock, flags);
    Note("bpf_local_storage_alloc: lost the cmpxchg race (-EAGAIN)", storage);
    err = -EAGAIN;
    goto uncharge;
  }
  kernel::raw_res_spin_unlock_irqrestore(&b->lock, flags);
  return 0;

uncharge:
  bpf_local_storage_free_helper(storage, /*reuse_now=*/true);
  mem_uncharge(smap, owner, sizeof(*storage));
  return err;
}

// The caller guarantees the owner is not going away (its creation guard).
bpf_local_storage_data* bpf_local_storage_update(void* owner, bpf_local_storage_map* smap, const u64* value,
                                                 u64 map_flags, bool swap_uptrs, gfp_t gfp_flags) {
  bpf_local_storage_data* old_sdata = nullptr;
  bpf_local_storage_elem* alloc_selem;
  bpf_local_storage_elem* selem = nullptr;
  bpf_local_storage* local_storage;
  bpf_local_storage_map_bucket* b;
  hlist_head old_selem_free_list{};
  bool free_old_storage = false;
  irqflags_t flags, b_flags;
  int err;

  rcu_lockdep_assert_bpf_held("bpf_local_storage_update()");
  // BPF_EXIST and BPF_NOEXIST cannot be both set; BPF_F_LOCK needs a
  // bpf_spin_lock in the value.
  if ((map_flags & ~BPF_F_LOCK) > BPF_EXIST || ((map_flags & BPF_F_LOCK) && !smap->map.record->has_spin_lock)) {
    return ERR_PTR<bpf_local_storage_data>(-EINVAL);
  }
  if (gfp_flags == kernel::GFP_KERNEL && (map_flags & ~BPF_F_LOCK) != BPF_NOEXIST) {
    return ERR_PTR<bpf_local_storage_data>(-EINVAL);
  }

  local_storage = rcu_dereference_check(*owner_storage(smap, owner), 1);
  if (local_storage == nullptr || kernel::hlist_empty(&local_storage->list)) {
    // The very first elem for the owner.
    err = check_flags(nullptr, map_flags);
    if (err) return ERR_PTR<bpf_local_storage_data>(err);

    selem = bpf_selem_alloc(smap, owner, value, swap_uptrs, gfp_flags);
    if (selem == nullptr) return ERR_PTR<bpf_local_storage_data>(-ENOMEM);

    err = bpf_local_storage_alloc(owner, smap, selem, gfp_flags);
    if (err) {
      bpf_selem_free_helper(selem, /*reuse_now=*/true);
      mem_uncharge(smap, owner, smap->elem_size);
      return ERR_PTR<bpf_local_storage_data>(err);
    }
    return SDATA(selem);
  }

  if ((map_flags & BPF_F_LOCK) && !(map_flags & BPF_NOEXIST)) {
    // Hoping to find an old_sdata to update in place, without L_s and
    // without changing the lists.
    old_sdata = bpf_local_storage_lookup(local_storage, smap, false);
    err = check_flags(old_sdata, map_flags);
    if (err) return ERR_PTR<bpf_local_storage_data>(err);
    if (old_sdata != nullptr && selem_linked_to_storage_lockless(SELEM(old_sdata))) {
      copy_map_value_locked(&smap->map, old_sdata->data, value, false);
      return old_sdata;
    }
  }

  // A lookup has just concluded a new selem is needed.
  alloc_selem = selem = bpf_selem_alloc(smap, owner, value, swap_uptrs, gfp_flags);
  if (alloc_selem == nullptr) return ERR_PTR<bpf_local_storage_data>(-ENOMEM);

  err = raw_res_spin_lock_irqsave(&local_storage->lock, flags);
  if (err) goto free_selem;

  // Recheck local_storage->list under local_storage->lock.
  if (kernel::hlist_empty(&local_storage->list)) {
    // A parallel delete removed the last elem: the storage is going away.
    // Return instead of retrying.
    Note("bpf_local_storage_update: storage emptied under us (-EAGAIN)", local_storage);
    err = -EAGAIN;
    goto unlock;
  }

  old_sdata = bpf_local_storage_lookup(local_storage, smap, false);
  err = check_flags(old_sdata, map_flags);
  if (err) goto unlock;

  if (old_sdata != nullptr && (map_flags & BPF_F_LOCK)) {
    copy_map_value_locked(&smap->map, old_sdata->data, value, false);
    selem = SELEM(old_sdata);
    goto unlock;
  }

  b = select_bucket(smap, local_storage);
  err = raw_res_spin_lock_irqsave(&b->lock, b_flags);
  if (err) goto unlock;

  alloc_selem = nullptr;
  // First, link the new selem to the map.
  bpf_selem_link_map_nolock(b, selem);
  // Second, link (and publish) it to local_storage.
  bpf_selem_link_storage_nolock(local_storage, selem);
  // Third, remove the old selem.
  if (old_sdata != nullptr) {
    bpf_selem_unlink_map_nolock(SELEM(old_sdata));
    free_old_storage = bpf_selem_unlink_storage_nolock(local_storage, SELEM(old_sdata), &old_selem_free_list);
    check::NoteUnlinked(SELEM(old_sdata), check::Readers::kPrograms);
  }
  kernel::raw_res_spin_unlock_irqrestore(&b->lock, b_flags);
unlock:
  bpf_local_storage_unlock(local_storage, flags);
free_selem:
  // The new selem was just linked, so the storage never empties here.
  bpf_local_storage_free_unlinked(&old_selem_free_list, local_storage, free_old_storage,
                                  /*reuse_now=*/false, FreeSite::kUpdateOld);
  if (alloc_selem != nullptr) {
    mem_uncharge(smap, owner, smap->elem_size);
    bpf_selem_free_helper(alloc_selem, /*reuse_now=*/true);
  }
  return err ? ERR_PTR<bpf_local_storage_data>(err) : SDATA(selem);
}

}  // namespace reclaimfuzz::storage
