// SPDX-License-Identifier: MIT
// BPF local storage: the model of kernel/bpf/bpf_local_storage.c and
// include/linux/bpf_local_storage.h at V4 (torvalds/linux @0542972950ef;
// docs/kernel-model.md §1-2), written against the kernel shim so that every shared
// access is a preemption point.
//
// Objects and who protects what (docs/kernel-model.md §1):
//
//   bpf_local_storage_map (smap)   one per map. buckets[i].list holds the
//       selems of the map, guarded by buckets[i].lock (L_b). Only map_free
//       walks them; lookups never touch the map.
//   bpf_local_storage (ls)         one per owner. list, cache[], mem_charge
//       and clearing owner->storage are guarded by ls->lock (L_s).
//       owner->storage is published by cmpxchg with no lock.
//   bpf_local_storage_elem (selem) one per (owner, map). map_node in a
//       bucket (L_b), snode in ls->list (L_s). "Linked" = pprev != NULL.
//
// Lock order: L_s, then L_b; unlocks LIFO (rqspinlock enforces both). Any
// acquisition may fail (-EDEADLK, -ETIMEDOUT); each caller's reaction is
// the kernel's (docs/kernel-model.md §3, "On lock failure").
//
// RCU: readers (lookups) walk ls->list and read cache[] inside an RCU read
// section of either flavour; a removed selem or storage is freed only after
// the grace periods of every reader that can still hold it
// (docs/kernel-model.md §2.8, §4).
//
// Named invariants (docs/kernel-model.md §7), checked in invariants.cc:
//   INV-cache-linked   once L_s is released, cache[i] never points to an
//                      unlinked sdata (§7.3);
//   INV-owner-storage  outside destroy, owner->storage == ls only while
//                      ls->list is non-empty (§7.4);
//   INV-mem-charge     outside destroy, ls->mem_charge == sizeof(*ls) + the
//                      elem_size of every selem on ls->list (§7.5);
//   INV-free-unlocked  no call_rcu*() free path runs under L_s or L_b (§7.6);
//   INV-map-barrier    no free callback touches an smap that map_free has
//                      freed (§7.7).
//
// MODEL: uptrs and the BPF timer/workqueue fields are not modelled; a value
// has at most a bpf_spin_lock (word 0) and one kptr (word 1).
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_BPF_LOCAL_STORAGE_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_BPF_LOCAL_STORAGE_H_

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "engine/kernel/atomic.h"
#include "engine/kernel/compiler.h"
#include "engine/kernel/list.h"
#include "engine/kernel/llist.h"
#include "engine/kernel/rqspinlock.h"
#include "engine/kernel/slab.h"
#include "engine/kernel/spinlock.h"
#include "engine/rcu/rcu.h"

namespace reclaimfuzz::storage {

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using kernel::atomic_t;
using kernel::gfp_t;
using kernel::hlist_head;
using kernel::hlist_node;
using kernel::llist_node;
using kernel::rcu_head;
using kernel::refcount_t;
using kernel::rqspinlock_t;
using kernel::spinlock_t;

// ---- include/uapi/linux/bpf.h -------------------------------------------------
inline constexpr u64 BPF_ANY = 0;
inline constexpr u64 BPF_NOEXIST = 1;
inline constexpr u64 BPF_EXIST = 2;
inline constexpr u64 BPF_F_LOCK = 4;
inline constexpr u64 BPF_LOCAL_STORAGE_GET_F_CREATE = 1;
inline constexpr u32 BPF_F_CLONE = 1u << 9;

// ---- include/linux/err.h ------------------------------------------------------
inline constexpr long MAX_ERRNO = 4095;
template <typename T>
inline T* ERR_PTR(long err) {
  return reinterpret_cast<T*>(static_cast<intptr_t>(err));
}
inline bool IS_ERR(const void* p) { return reinterpret_cast<uintptr_t>(p) >= static_cast<uintptr_t>(-MAX_ERRNO); }
inline bool IS_ERR_OR_NULL(const void* p) { return p == nullptr || IS_ERR(p); }
inline long PTR_ERR(const void* p) { return static_cast<long>(reinterpret_cast<intptr_t>(p)); }
inline long PTR_ERR_OR_ZERO(const void* p) { return IS_ERR(p) ? PTR_ERR(p) : 0; }

// ---- include/linux/bpf_local_storage.h ---------------------------------------
inline constexpr int BPF_LOCAL_STORAGE_CACHE_SIZE = 16;

inline constexpr int SELEM_MAP_UNLINKED = 1 << 0;
inline constexpr int SELEM_STORAGE_UNLINKED = 1 << 1;
inline constexpr int SELEM_UNLINKED = SELEM_MAP_UNLINKED | SELEM_STORAGE_UNLINKED;
inline constexpr int SELEM_TOFREE = 1 << 2;

struct bpf_local_storage;
struct bpf_local_storage_map;

// The owner types (docs/kernel-model.md §1, "Owners").
enum class OwnerKind : u8 { kTask, kSk, kInode, kCgroup };
const char* OwnerKindName(OwnerKind kind);

// struct bpf_spin_lock (include/uapi/linux/bpf.h): the lock in a map value
// that BPF_F_LOCK updates take.
struct bpf_spin_lock {
  u32 val;
};

// The special fields of a map value (struct btf_record, reduced).
// MODEL: word 0 of the value is the bpf_spin_lock, word 1 the kptr.
struct btf_record {
  bool has_spin_lock;
  bool has_kptr;
};
inline constexpr int kSpinLockWord = 0;
inline constexpr int kKptrWord = 1;

struct bpf_local_storage_cache {
  spinlock_t idx_lock;
  u64 idx_usage_counts[BPF_LOCAL_STORAGE_CACHE_SIZE];
};

// struct bpf_map_ops, the members local storage uses.
struct bpf_map_ops {
  OwnerKind owner_kind;  // MODEL: which owner files these ops stand for
  bpf_local_storage** (*map_owner_storage_ptr)(void* owner);
  int (*map_local_storage_charge)(bpf_local_storage_map* smap, void* owner, u32 size);  // sk only
  void (*map_local_storage_uncharge)(bpf_local_storage_map* smap, void* owner, u32 size);
  // MODEL: the owner's creation guard says it is going away (refcount at
  // zero, percpu_ref dying); used by the invariant checks only.
  bool (*model_owner_dying)(void* owner);
  // MODEL: the ledger account of the owner (check/accounting.h).
  int (*model_owner_account)(void* owner);
  bpf_local_storage_cache* cache;  // DEFINE_BPF_STORAGE_CACHE(task_cache) ...
  bool use_kmalloc_nolock;         // task, cgroup: true; sk, inode: false
};

struct bpf_map {
  const bpf_map_ops* ops;
  const btf_record* record;
  u32 value_size;
  u32 map_flags;
  btf_record record_storage;  // MODEL: the record lives inside the map
  int64_t model_id;           // MODEL: slab id, for reports and INV-map-barrier
};

struct bpf_local_storage_map_bucket {
  hlist_head list;
  rqspinlock_t lock;
};

struct bpf_local_storage_map {
  bpf_map map;
  bpf_local_storage_map_bucket* buckets;
  u32 bucket_log;
  u16 elem_size;
  u16 cache_idx;
  bool use_kmalloc_nolock;
};

struct bpf_local_storage_data {
  // The lookup key. __rcu: map_free clears it (bpf_selem_unlink_nofail).
  bpf_local_storage_map* smap;
  alignas(8) u8 data[];
};

struct bpf_local_storage_elem {
  hlist_node map_node;               // in smap->buckets[i].list, under L_b
  hlist_node snode;                  // in local_storage->list, under L_s
  bpf_local_storage* local_storage;  // __rcu
  // Only the context that won hlist_del_init_rcu(&snode) may use free_node;
  // after that free_node, then rcu (or llnode, then rcu) are used one after
  // the other, never at once (commit 5bd5bab76669).
  union {
    rcu_head rcu;
    hlist_node free_node;  // batches frees until after unlock
    llist_node llnode;     // always-defer-fixed: the per-CPU deferred llist
  };
  atomic_t state;           // SELEM_*: the nofail protocol between destroy and map_free
  bool use_kmalloc_nolock;  // copied from smap: the free path may not have smap
  bool defer_reuse_now;     // always-defer-fixed: the reuse_now of the deferred free
  // MODEL: ____cacheline_aligned in the kernel; the model's allocator only
  // guarantees 16 bytes, so sdata keeps its natural 8-byte alignment.
  bpf_local_storage_data sdata;
};

struct bpf_local_storage {
  bpf_local_storage_data* cache[BPF_LOCAL_STORAGE_CACHE_SIZE];  // __rcu
  hlist_head list;                                              // selems, under lock
  void* owner;
  rcu_head rcu;
  rqspinlock_t lock;
  u64 mem_charge;           // copy of what is charged to the owner; under lock
  refcount_t owner_refcnt;  // pins the owner while map_free uncharges
  bool use_kmalloc_nolock;
  hlist_node deferred_free_node;  // always-defer-v1: per-CPU deferred hlist
  llist_node deferred_llnode;     // always-defer-fixed: per-CPU deferred llist
  bool defer_reuse_now;           // always-defer-fixed
  // MODEL: the slab id, hashed by select_bucket() instead of the pointer;
  // the ops of the map that created it, and whether destroy has started,
  // for the invariant checks.
  int64_t model_id;
  const bpf_map_ops* model_ops;
  bool model_destroying;
};

#define SELEM(_SDATA) container_of((_SDATA), ::reclaimfuzz::storage::bpf_local_storage_elem, sdata)
#define SDATA(_SELEM) (&(_SELEM)->sdata)

// ---- operations (docs/kernel-model.md §2) -----------------------------------
//
// Contexts: lookup, update, bpf_selem_unlink and the cache insert run in
// program or syscall context inside an RCU read section of either flavour
// (bpf_rcu_lock_held()), in task, softirq, hardirq or NMI context. destroy
// runs in the owner's free path under rcu_read_lock(); map_free in process
// context, and it sleeps.

bpf_local_storage_map* bpf_local_storage_map_alloc(u32 value_size, u32 map_flags, const btf_record& record,
                                                   const bpf_map_ops* ops);
void bpf_local_storage_map_free(bpf_map* map, bpf_local_storage_cache* cache);

bpf_local_storage_elem* bpf_selem_alloc(bpf_local_storage_map* smap, void* owner, const u64* value, bool swap_uptrs,
                                        gfp_t gfp_flags);
void bpf_selem_free(bpf_local_storage_elem* selem, bool reuse_now);
void bpf_selem_free_list(hlist_head* list, bool reuse_now);
void bpf_local_storage_free(bpf_local_storage* local_storage, bool reuse_now);

int bpf_local_storage_alloc(void* owner, bpf_local_storage_map* smap, bpf_local_storage_elem* first_selem,
                            gfp_t gfp_flags);
bpf_local_storage_data* bpf_local_storage_update(void* owner, bpf_local_storage_map* smap, const u64* value,
                                                 u64 map_flags, bool swap_uptrs, gfp_t gfp_flags);
bpf_local_storage_data* bpf_local_storage_lookup(bpf_local_storage* local_storage, bpf_local_storage_map* smap,
                                                 bool cacheit_lockit);

void bpf_selem_link_storage_nolock(bpf_local_storage* local_storage, bpf_local_storage_elem* selem);
// L_s held. Clears the cache slot; with pin_owner (map_free only) pins the
// owner through owner_refcnt or, if destroy already passed its wait,
// returns before uncharging; uncharges; if free_local_storage, clears
// ls->owner and owner->storage.
void bpf_selem_unlink_storage_nolock_misc(bpf_local_storage_elem* selem, bpf_local_storage_map* smap,
                                          bpf_local_storage* local_storage, bool free_local_storage, bool pin_owner);
bool bpf_selem_unlink_storage_nolock(bpf_local_storage* local_storage, bpf_local_storage_elem* selem,
                                     hlist_head* free_selem_list);
int bpf_selem_unlink(bpf_local_storage_elem* selem);
void bpf_selem_unlink_nofail(bpf_local_storage_elem* selem, bpf_local_storage_map_bucket* b);
u32 bpf_local_storage_destroy(bpf_local_storage* local_storage);

namespace internal {
// __bpf_local_storage_insert_cache()
void bpf_local_storage_insert_cache(bpf_local_storage* local_storage, bpf_local_storage_map* smap,
                                    bpf_local_storage_elem* selem);
}  // namespace internal

// Value helpers (include/linux/bpf.h), on the model's value layout.
void copy_map_value(bpf_map* map, u8* dst, const u64* src);
void copy_map_value_locked(bpf_map* map, u8* dst, const u64* src, bool lock_src);
void bpf_obj_free_fields(const btf_record* rec, u8* data);

// Small shared helpers. mem_(un)charge also keep the accounting ledger.
int mem_charge(bpf_local_storage_map* smap, void* owner, u32 size);
void mem_uncharge(bpf_local_storage_map* smap, void* owner, u32 size);
bpf_local_storage_map_bucket* select_bucket(bpf_local_storage_map* smap, bpf_local_storage* local_storage);
bpf_local_storage** owner_storage(bpf_local_storage_map* smap, void* owner);
inline u32 value_words(const bpf_map* map) { return map->value_size / 8; }

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_BPF_LOCAL_STORAGE_H_
