// SPDX-License-Identifier: MIT
// The free paths (docs/kernel-model.md §2.8): bpf_selem_free() and
// bpf_local_storage_free() with the whole reuse_now x use_kmalloc_nolock
// table, their RCU callbacks, and the map-value helpers.
//
//   selem     !nolock  reuse_now   call_rcu             -> free fields, kfree
//             !nolock  !reuse_now  call_rcu_tasks_trace -> same ("trace GP implies RCU GP")
//             nolock   reuse_now   call_rcu             -> free fields, kfree_nolock
//             nolock   !reuse_now  call_rcu_tasks_trace -> same
//   storage   !nolock  reuse_now   kfree_rcu
//             !nolock  !reuse_now  call_rcu_tasks_trace -> kfree
//             nolock   reuse_now   call_rcu             -> kfree_nolock
//             nolock   !reuse_now  call_rcu_tasks_trace -> kfree_nolock
//
// reuse_now=false (delete, the selem replaced by update): regular and
// sleepable programs may still hold the object. reuse_now=true: it was
// never published, or the owner or the map is going away and only RCU
// walkers (destroy, map_free) can reach it.
//
// Callbacks run in softirq context; those of selems dereference smap, which
// is why map_free ends with rcu_barrier_tasks_trace() + rcu_barrier().
#include "engine/kernel/context.h"
#include "engine/storage/bpf_local_storage.h"
#include "engine/storage/invariants.h"

namespace reclaimfuzz::storage {
namespace internal {

// rcu tasks trace callback for use_kmalloc_nolock == false
void bpf_local_storage_free_trace_rcu(rcu_head* rcu) {
  // The Tasks Trace GP implies an RCU GP: kfree() directly.
  kernel::kfree(container_of(rcu, bpf_local_storage, rcu));
}

// kfree_rcu(local_storage, rcu). MODEL: call_rcu() + kfree().
void bpf_local_storage_kfree_rcu(rcu_head* rcu) { kernel::kfree(container_of(rcu, bpf_local_storage, rcu)); }

// use_kmalloc_nolock == false
void bpf_local_storage_free(bpf_local_storage* local_storage, bool vanilla_rcu) {
  if (vanilla_rcu) {
    kernel::call_rcu(&local_storage->rcu, bpf_local_storage_kfree_rcu);
  } else {
    kernel::call_rcu_tasks_trace(&local_storage->rcu, bpf_local_storage_free_trace_rcu);
  }
}

// rcu callback for use_kmalloc_nolock == false
void bpf_selem_free_rcu(rcu_head* rcu) {
  bpf_local_storage_elem* selem = container_of(rcu, bpf_local_storage_elem, rcu);
  // bpf_selem_unlink_nofail() may have already cleared smap and freed fields.
  bpf_local_storage_map* smap = rcu_dereference_check(SDATA(selem)->smap, 1);
  if (smap != nullptr) {
    invariants::CheckMapAlive(smap, "__bpf_selem_free_rcu()");
    bpf_obj_free_fields(smap->map.record, SDATA(selem)->data);
  }
  kernel::kfree(selem);
}

void bpf_selem_free_trace_rcu(rcu_head* rcu) { bpf_selem_free_rcu(rcu); }

// use_kmalloc_nolock == false
void bpf_selem_free(bpf_local_storage_elem* selem, bool vanilla_rcu) {
  if (vanilla_rcu) {
    kernel::call_rcu(&selem->rcu, bpf_selem_free_rcu);
  } else {
    kernel::call_rcu_tasks_trace(&selem->rcu, bpf_selem_free_trace_rcu);
  }
}

}  // namespace internal

namespace {

void bpf_local_storage_free_rcu(rcu_head* rcu) { kernel::kfree_nolock(container_of(rcu, bpf_local_storage, rcu)); }

void bpf_local_storage_free_trace_rcu(rcu_head* rcu) { bpf_local_storage_free_rcu(rcu); }

void bpf_selem_free_rcu(rcu_head* rcu) {
  bpf_local_storage_elem* selem = container_of(rcu, bpf_local_storage_elem, rcu);
  // bpf_local_storage_map_free() waits for rcu_barrier before freeing smap.
  bpf_local_storage_map* smap = rcu_dereference_check(SDATA(selem)->smap, 1);
  if (smap != nullptr) {
    invariants::CheckMapAlive(smap, "bpf_selem_free_rcu()");
    bpf_obj_free_fields(smap->map.record, SDATA(selem)->data);
  }
  kernel::kfree_nolock(selem);
}

void bpf_selem_free_trace_rcu(rcu_head* rcu) { bpf_selem_free_rcu(rcu); }

}  // namespace

void bpf_local_storage_free(bpf_local_storage* local_storage, bool reuse_now) {
  if (local_storage == nullptr) return;
  invariants::CheckNoStorageLockHeld("bpf_local_storage_free()");
  if (!local_storage->use_kmalloc_nolock) {
    internal::bpf_local_storage_free(local_storage, reuse_now);
    return;
  }
  if (reuse_now) {
    kernel::call_rcu(&local_storage->rcu, bpf_local_storage_free_rcu);
    return;
  }
  kernel::call_rcu_tasks_trace(&local_storage->rcu, bpf_local_storage_free_trace_rcu);
}

void bpf_selem_free(bpf_local_storage_elem* selem, bool reuse_now) {
  invariants::CheckNoStorageLockHeld("bpf_selem_free()");
  if (!selem->use_kmalloc_nolock) {
    internal::bpf_selem_free(selem, reuse_now);
    return;
  }
  if (reuse_now) {
    kernel::call_rcu(&selem->rcu, bpf_selem_free_rcu);
    return;
  }
  kernel::call_rcu_tasks_trace(&selem->rcu, bpf_selem_free_trace_rcu);
}

void bpf_selem_free_list(hlist_head* list, bool reuse_now) {
  bpf_local_storage_elem* selem;
  hlist_node* n;
  // _safe: bpf_selem_free() reuses free_node's memory as the rcu_head.
  hlist_for_each_entry_safe(selem, n, list, bpf_local_storage_elem, free_node) { bpf_selem_free(selem, reuse_now); }
}

// ---- map values ----------------------------------------------------------------

namespace {

bool special_word(const btf_record* rec, u32 w) {
  return (rec->has_spin_lock && w == kSpinLockWord) || (rec->has_kptr && w == kKptrWord);
}

}  // namespace

// Copies everything but the special fields.
void copy_map_value(bpf_map* map, u8* dst, const u64* src) {
  u64* d = reinterpret_cast<u64*>(dst);
  for (u32 w = 0; w < value_words(map); ++w) {
    if (!special_word(map->record, w)) WRITE_ONCE(d[w], src[w]);
  }
}

// Under the value's bpf_spin_lock with IRQs off (__bpf_spin_lock_irqsave).
void copy_map_value_locked(bpf_map* map, u8* dst, const u64* src, bool lock_src) {
  (void)lock_src;  // MODEL: only used by sk clone/diag, which are not modelled
  bpf_spin_lock* lock = reinterpret_cast<bpf_spin_lock*>(dst + kSpinLockWord * 8);
  kernel::irqflags_t flags;
  local_irq_save(flags);
  while (cmpxchg(&lock->val, 0u, 1u) != 0u) {
    kernel::preemption_point(sched::PointKind::kSpin, "bpf_spin_lock spin");
  }
  copy_map_value(map, dst, src);
  smp_store_release(&lock->val, 0u);
  kernel::local_irq_restore(flags);
}

// Frees the special fields (the kptr) exactly once: the xchg decides.
void bpf_obj_free_fields(const btf_record* rec, u8* data) {
  if (rec == nullptr || !rec->has_kptr) return;
  u64* words = reinterpret_cast<u64*>(data);
  const u64 old = xchg(&words[kKptrWord], u64{0});
  // MODEL: the kptr's destructor.
  if (old != 0) kernel::kfree_nolock(reinterpret_cast<void*>(old));
}

}  // namespace reclaimfuzz::storage
