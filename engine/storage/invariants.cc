// SPDX-License-Identifier: MIT
#include "engine/storage/invariants.h"

#include "engine/check/reclaim.h"
#include "engine/kernel/lockdep.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::storage::invariants {
namespace {

template <typename T>
T Load(const T* p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

bool Enabled() { return check::oracle_options().invariants; }

bool Linked(const hlist_node* n) { return Load(&n->pprev) != nullptr; }

}  // namespace

void CheckStorageBeforeUnlock(bpf_local_storage* ls) {
  if (!Enabled()) return;
  if (Load(&ls->model_destroying)) return;
  void* owner = Load(&ls->owner);
  const bpf_map_ops* ops = ls->model_ops;
  if (owner != nullptr && ops->model_owner_dying(owner)) return;
  const int64_t id = ls->model_id;

  // INV-cache-linked (docs/kernel-model.md §7.3).
  for (int i = 0; i < BPF_LOCAL_STORAGE_CACHE_SIZE; ++i) {
    bpf_local_storage_data* sdata = Load(&ls->cache[i]);
    if (sdata == nullptr) continue;
    bpf_local_storage_elem* selem = SELEM(sdata);
    if (!Linked(&selem->snode) || Load(&selem->local_storage) != ls) {
      check::Report("invariant:cache-linked", kernel::slab::IdOf(selem),
                    "bpf_local_storage #%lld: cache[%d] points to an sdata that is not linked to "
                    "this storage when its lock is released",
                    static_cast<long long>(id), i);
    }
  }

  // INV-owner-storage (§7.4) and INV-mem-charge (§7.5).
  const bool empty = Load(&ls->list.first) == nullptr;
  if (owner == nullptr) {
    if (!empty) {
      check::Report("invariant:owner-storage", id,
                    "bpf_local_storage #%lld has selems but no owner when its lock is released",
                    static_cast<long long>(id));
    }
  } else {
    bpf_local_storage* published = Load(ops->map_owner_storage_ptr(owner));
    if (empty || published != ls) {
      check::Report("invariant:owner-storage", id,
                    "bpf_local_storage #%lld: owner is set but %s when its lock is released",
                    static_cast<long long>(id), empty ? "the list is empty" : "owner->storage points elsewhere");
    }
  }

  u64 expected = sizeof(bpf_local_storage);
  for (hlist_node* n = Load(&ls->list.first); n != nullptr; n = Load(&n->next)) {
    bpf_local_storage_elem* selem = container_of(n, bpf_local_storage_elem, snode);
    const kernel::slab::Object* o = kernel::slab::Get(kernel::slab::IdOf(selem));
    expected += o != nullptr ? o->size : 0;
  }
  if (!empty || owner != nullptr) {
    const u64 charge = Load(&ls->mem_charge);
    if (charge != expected) {
      check::Report("invariant:mem-charge", id,
                    "bpf_local_storage #%lld: mem_charge is %llu but its selems and itself "
                    "account for %llu bytes",
                    static_cast<long long>(id), static_cast<unsigned long long>(charge),
                    static_cast<unsigned long long>(expected));
    }
  }
}

void CheckNoStorageLockHeld(const char* what) {
  if (!Enabled()) return;
  sched::Scheduler* s = sched::Scheduler::Current();
  if (s == nullptr || s->current_task() < 0) return;
  const sched::TaskKernelState& k = s->task(s->current_task()).k;
  const int depth = s->current_depth();
  for (int i = 0; i < k.nheld; ++i) {
    const sched::HeldLock& h = k.held[i];
    if (h.depth == depth && (h.name == kStorageLockName || h.name == kBucketLockName)) {
      check::Report("invariant:free-unlocked", -1, "%s called with %s held", what, h.name);
    }
  }
}

void CheckMapAlive(const bpf_local_storage_map* smap, const char* what) {
  const int64_t id = kernel::slab::IdOf(smap);
  const kernel::slab::Object* o = kernel::slab::Get(id);
  if (id < 0 || o == nullptr || o->type != kMapObjectType) {
    // Not gated on Enabled(): the dereference that follows would be a
    // use-after-free; name it after the invariant it breaks.
    check::Report("invariant:map-barrier", -1,
                  "%s dereferences an smap that bpf_local_storage_map_free() already freed: "
                  "a free callback outlived map_free's rcu_barrier*()",
                  what);
  }
}

}  // namespace reclaimfuzz::storage::invariants
