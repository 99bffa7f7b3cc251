// SPDX-License-Identifier: MIT
#include "engine/storage/owners.h"

#include "engine/check/accounting.h"
#include "engine/kernel/context.h"
#include "engine/report/report.h"
#include "engine/storage/world.h"

namespace reclaimfuzz::storage {

int sysctl_optmem_max = kDefaultOptmemMax;

namespace {

bpf_local_storage_map* SMAP(bpf_map* map) { return reinterpret_cast<bpf_local_storage_map*>(map); }

void* sdata_value(bpf_local_storage_data* sdata) {
  return IS_ERR_OR_NULL(sdata) ? nullptr : static_cast<void*>(sdata->data);
}

bpf_local_storage_data* storage_lookup(bpf_local_storage** storage_ptr, bpf_map* map, bool cacheit_lockit) {
  bpf_local_storage* local_storage = rcu_dereference_check(*storage_ptr, 1);
  if (local_storage == nullptr) return nullptr;
  return bpf_local_storage_lookup(local_storage, SMAP(map), cacheit_lockit);
}

int storage_delete(bpf_local_storage** storage_ptr, bpf_map* map) {
  bpf_local_storage_data* sdata = storage_lookup(storage_ptr, map, false);
  if (sdata == nullptr) return -ENOENT;
  return bpf_selem_unlink(SELEM(sdata));
}

// The free hooks: destroy under rcu_read_lock(), then clear the owner's
// pointer. Returns what destroy left charged to the owner.
u32 storage_free(bpf_local_storage** storage_ptr) {
  u32 uncharge = 0;
  kernel::rcu_read_lock();
  kernel::migrate_disable();
  bpf_local_storage* local_storage = rcu_dereference(*storage_ptr);
  if (local_storage != nullptr) {
    uncharge = bpf_local_storage_destroy(local_storage);
    RCU_INIT_POINTER(*storage_ptr, nullptr);
  }
  kernel::migrate_enable();
  kernel::rcu_read_unlock();
  return uncharge;
}

// ---- task ----

bpf_local_storage** task_storage_ptr(void* owner) { return &static_cast<task_struct*>(owner)->bpf_storage; }
bool task_dying(void* owner) {
  return __atomic_load_n(&static_cast<task_struct*>(owner)->usage.refs.counter, __ATOMIC_RELAXED) == 0;
}
int task_account(void* owner) { return static_cast<task_struct*>(owner)->model_account; }

bpf_local_storage_cache task_cache;

// ---- sk ----

bpf_local_storage** bpf_sk_storage_ptr(void* owner) { return &static_cast<sock*>(owner)->sk_bpf_storage; }
bool sk_dying(void* owner) {
  return __atomic_load_n(&static_cast<sock*>(owner)->sk_refcnt.refs.counter, __ATOMIC_RELAXED) == 0;
}
int sk_account(void* owner) { return static_cast<sock*>(owner)->model_account; }

// Same check as sock_kmalloc().
int bpf_sk_storage_charge(bpf_local_storage_map*, void* owner, u32 size) {
  sock* sk = static_cast<sock*>(owner);
  const int optmem_max = READ_ONCE(sysctl_optmem_max);
  if (static_cast<int>(size) <= optmem_max &&
      kernel::atomic_read(&sk->sk_omem_alloc) + static_cast<int>(size) < optmem_max) {
    kernel::atomic_add_return(static_cast<int>(size), &sk->sk_omem_alloc);
    return 0;
  }
  return -ENOMEM;
}

void bpf_sk_storage_uncharge(bpf_local_storage_map*, void* owner, u32 size) {
  kernel::atomic_add_return(-static_cast<int>(size), &static_cast<sock*>(owner)->sk_omem_alloc);
}

bpf_local_storage_cache sk_cache;

// ---- inode ----

bpf_local_storage** inode_storage_ptr(void* owner) { return &static_cast<inode*>(owner)->i_security_bpf.storage; }
bool inode_dying(void* owner) {
  return __atomic_load_n(&static_cast<inode*>(owner)->i_count.counter, __ATOMIC_RELAXED) == 0;
}
int inode_account(void* owner) { return static_cast<inode*>(owner)->model_account; }

bpf_local_storage_cache inode_cache;

// ---- cgroup ----

bpf_local_storage** cgroup_storage_ptr(void* owner) { return &static_cast<cgroup*>(owner)->bpf_cgrp_storage; }
bool cgroup_dying(void* owner) {
  return __atomic_load_n(&static_cast<cgroup*>(owner)->self_refcnt_dying.counter, __ATOMIC_RELAXED) != 0;
}
int cgroup_account(void* owner) { return static_cast<cgroup*>(owner)->model_account; }

bpf_local_storage_cache cgroup_cache;

template <typename T>
T* alloc_owner(OwnerKind kind, const char* type) {
  T* o = static_cast<T*>(kernel::kzalloc(sizeof(T), kernel::GFP_KERNEL, type));
  if (o == nullptr) return nullptr;
  o->model_account = check::NewAccount(type, kernel::slab::IdOf(o));
  world::AddOwner(kind, o);
  return o;
}

}  // namespace

const bpf_map_ops task_storage_map_ops = {
    .owner_kind = OwnerKind::kTask,
    .map_owner_storage_ptr = task_storage_ptr,
    .model_owner_dying = task_dying,
    .model_owner_account = task_account,
    .cache = &task_cache,
    .use_kmalloc_nolock = true,
};
const bpf_map_ops sk_storage_map_ops = {
    .owner_kind = OwnerKind::kSk,
    .map_owner_storage_ptr = bpf_sk_storage_ptr,
    .map_local_storage_charge = bpf_sk_storage_charge,
    .map_local_storage_uncharge = bpf_sk_storage_uncharge,
    .model_owner_dying = sk_dying,
    .model_owner_account = sk_account,
    .cache = &sk_cache,
    .use_kmalloc_nolock = false,
};
const bpf_map_ops inode_storage_map_ops = {
    .owner_kind = OwnerKind::kInode,
    .map_owner_storage_ptr = inode_storage_ptr,
    .model_owner_dying = inode_dying,
    .model_owner_account = inode_account,
    .cache = &inode_cache,
    .use_kmalloc_nolock = false,
};
const bpf_map_ops cgrp_storage_map_ops = {
    .owner_kind = OwnerKind::kCgroup,
    .map_owner_storage_ptr = cgroup_storage_ptr,
    .model_owner_dying = cgroup_dying,
    .model_owner_account = cgroup_account,
    .cache = &cgroup_cache,
    .use_kmalloc_nolock = true,
};

const bpf_map_ops* owner_map_ops(OwnerKind kind) {
  switch (kind) {
    case OwnerKind::kTask:
      return &task_storage_map_ops;
    case OwnerKind::kSk:
      return &sk_storage_map_ops;
    case OwnerKind::kInode:
      return &inode_storage_map_ops;
    case OwnerKind::kCgroup:
      return &cgrp_storage_map_ops;
  }
  return nullptr;
}

const char* OwnerKindName(OwnerKind kind) {
  switch (kind) {
    case OwnerKind::kTask:
      return "task";
    case OwnerKind::kSk:
      return "sk";
    case OwnerKind::kInode:
      return "inode";
    case OwnerKind::kCgroup:
      return "cgroup";
  }
  return "?";
}

bpf_local_storage** owner_storage_ptr(OwnerKind kind, void* owner) {
  return owner_map_ops(kind)->map_owner_storage_ptr(owner);
}

namespace owners_internal {
void ResetCaches() {
  for (bpf_local_storage_cache* c : {&task_cache, &sk_cache, &inode_cache, &cgroup_cache}) {
    kernel::spin_lock_init(&c->idx_lock, "bpf_local_storage_cache.idx_lock");
    for (u64& n : c->idx_usage_counts) n = 0;
  }
  sysctl_optmem_max = kDefaultOptmemMax;
}
}  // namespace owners_internal

// ---- task ---------------------------------------------------------------------

void* bpf_task_storage_get(bpf_map* map, task_struct* task, const u64* value, u64 flags, gfp_t gfp_flags) {
  if ((flags & ~BPF_LOCAL_STORAGE_GET_F_CREATE) || task == nullptr) return nullptr;
  bpf_local_storage_data* sdata = storage_lookup(&task->bpf_storage, map, true);
  if (sdata != nullptr) return sdata->data;
  // Only allocate new storage when the task is refcounted.
  if (kernel::refcount_read(&task->usage) && (flags & BPF_LOCAL_STORAGE_GET_F_CREATE)) {
    return sdata_value(bpf_local_storage_update(task, SMAP(map), value, BPF_NOEXIST, false, gfp_flags));
  }
  return nullptr;
}

// The caller guarantees the task's lifetime (a reference or an RCU reader).
long bpf_task_storage_delete(bpf_map* map, task_struct* task) {
  if (task == nullptr) return -EINVAL;
  return storage_delete(&task->bpf_storage, map);
}

void* bpf_pid_task_storage_lookup_elem(bpf_map* map, task_struct* task) {
  bpf_local_storage_data* sdata = storage_lookup(&task->bpf_storage, map, true);
  return sdata != nullptr ? sdata->data : nullptr;
}

long bpf_pid_task_storage_update_elem(bpf_map* map, task_struct* task, const u64* value, u64 map_flags) {
  return PTR_ERR_OR_ZERO(bpf_local_storage_update(task, SMAP(map), value, map_flags, true, kernel::GFP_ATOMIC));
}

long bpf_pid_task_storage_delete_elem(bpf_map* map, task_struct* task) {
  return storage_delete(&task->bpf_storage, map);
}

void bpf_task_storage_free(task_struct* task) {
  // MODEL: only sk uncharges what destroy returns; the ledger closes every
  // owner's account the same way.
  check::Charge(task->model_account, -static_cast<int64_t>(storage_free(&task->bpf_storage)));
}

void put_task_struct(task_struct* task) {
  if (kernel::refcount_dec_and_test(&task->usage)) bpf_task_storage_free(task);
}

// ---- sk -----------------------------------------------------------------------

void* bpf_sk_storage_get(bpf_map* map, sock* sk, const u64* value, u64 flags, gfp_t gfp_flags) {
  if (sk == nullptr || flags > BPF_LOCAL_STORAGE_GET_F_CREATE) return nullptr;
  bpf_local_storage_data* sdata = storage_lookup(&sk->sk_bpf_storage, map, true);
  if (sdata != nullptr) return sdata->data;
  // Cannot add a new elem to a going-away sk: it would leak.
  if (flags == BPF_LOCAL_STORAGE_GET_F_CREATE && kernel::refcount_inc_not_zero(&sk->sk_refcnt)) {
    sdata = bpf_local_storage_update(sk, SMAP(map), value, BPF_NOEXIST, false, gfp_flags);
    sock_put(sk);
    return sdata_value(sdata);
  }
  return nullptr;
}

long bpf_sk_storage_delete(bpf_map* map, sock* sk) {
  if (sk == nullptr) return -EINVAL;
  if (kernel::refcount_inc_not_zero(&sk->sk_refcnt)) {
    const int err = storage_delete(&sk->sk_bpf_storage, map);
    sock_put(sk);
    return err;
  }
  return -ENOENT;
}

void* bpf_sk_storage_get_tracing(bpf_map* map, sock* sk, const u64* value, u64 flags, gfp_t gfp_flags) {
  if (kernel::in_hardirq() || kernel::in_nmi()) return nullptr;
  return bpf_sk_storage_get(map, sk, value, flags, gfp_flags);
}

long bpf_sk_storage_delete_tracing(bpf_map* map, sock* sk) {
  if (kernel::in_hardirq() || kernel::in_nmi()) return -EPERM;
  return bpf_sk_storage_delete(map, sk);
}

void* bpf_fd_sk_storage_lookup_elem(bpf_map* map, sock* sk) {
  bpf_local_storage_data* sdata = storage_lookup(&sk->sk_bpf_storage, map, true);
  return sdata != nullptr ? sdata->data : nullptr;
}

long bpf_fd_sk_storage_update_elem(bpf_map* map, sock* sk, const u64* value, u64 map_flags) {
  return PTR_ERR_OR_ZERO(bpf_local_storage_update(sk, SMAP(map), value, map_flags, false, kernel::GFP_ATOMIC));
}

long bpf_fd_sk_storage_delete_elem(bpf_map* map, sock* sk) { return storage_delete(&sk->sk_bpf_storage, map); }

void bpf_sk_storage_free(sock* sk) {
  const u32 uncharge = storage_free(&sk->sk_bpf_storage);
  if (uncharge != 0) kernel::atomic_add_return(-static_cast<int>(uncharge), &sk->sk_omem_alloc);
  check::Charge(sk->model_account, -static_cast<int64_t>(uncharge));
}

void sock_put(sock* sk) {
  if (!kernel::refcount_dec_and_test(&sk->sk_refcnt)) return;
  // __sk_destruct()
  bpf_sk_storage_free(sk);
  const int left = kernel::atomic_read(&sk->sk_omem_alloc);
  if (left != 0) {
    check::Report(check::kAccounting, kernel::slab::IdOf(sk), "__sk_destruct: optmem leakage (%d bytes) detected",
                  left);
  }
}

// ---- inode --------------------------------------------------------------------

void* bpf_inode_storage_get(bpf_map* map, inode* inode, const u64* value, u64 flags, gfp_t gfp_flags) {
  if (flags & ~BPF_LOCAL_STORAGE_GET_F_CREATE) return nullptr;
  if (inode == nullptr) return nullptr;
  bpf_local_storage_data* sdata = storage_lookup(inode_storage_ptr(inode), map, true);
  if (sdata != nullptr) return sdata->data;
  // Only allocate new storage when the inode is refcounted.
  if (kernel::atomic_read(&inode->i_count) && (flags & BPF_LOCAL_STORAGE_GET_F_CREATE)) {
    return sdata_value(bpf_local_storage_update(inode, SMAP(map), value, BPF_NOEXIST, false, gfp_flags));
  }
  return nullptr;
}

long bpf_inode_storage_delete(bpf_map* map, inode* inode) {
  if (inode == nullptr) return -EINVAL;
  return storage_delete(inode_storage_ptr(inode), map);
}

void* bpf_fd_inode_storage_lookup_elem(bpf_map* map, inode* inode) {
  bpf_local_storage_data* sdata = storage_lookup(inode_storage_ptr(inode), map, true);
  return sdata != nullptr ? sdata->data : nullptr;
}

long bpf_fd_inode_storage_update_elem(bpf_map* map, inode* inode, const u64* value, u64 map_flags) {
  return PTR_ERR_OR_ZERO(bpf_local_storage_update(inode, SMAP(map), value, map_flags, false, kernel::GFP_ATOMIC));
}

long bpf_fd_inode_storage_delete_elem(bpf_map* map, inode* inode) {
  return storage_delete(inode_storage_ptr(inode), map);
}

void bpf_inode_storage_free(inode* inode) {
  check::Charge(inode->model_account, -static_cast<int64_t>(storage_free(inode_storage_ptr(inode))));
}

void iput(inode* inode) {
  if (kernel::atomic_dec_and_test(&inode->i_count)) bpf_inode_storage_free(inode);
}

// ---- cgroup -------------------------------------------------------------------

void* bpf_cgrp_storage_get(bpf_map* map, cgroup* cgroup, const u64* value, u64 flags, gfp_t gfp_flags) {
  if (flags & ~BPF_LOCAL_STORAGE_GET_F_CREATE) return nullptr;
  if (cgroup == nullptr) return nullptr;
  bpf_local_storage_data* sdata = storage_lookup(&cgroup->bpf_cgrp_storage, map, true);
  if (sdata == nullptr && !kernel::atomic_read(&cgroup->self_refcnt_dying) &&
      (flags & BPF_LOCAL_STORAGE_GET_F_CREATE)) {
    // Only allocate new storage when the cgroup is refcounted.
    sdata = bpf_local_storage_update(cgroup, SMAP(map), value, BPF_NOEXIST, false, gfp_flags);
  }
  return sdata_value(sdata);
}

long bpf_cgrp_storage_delete(bpf_map* map, cgroup* cgroup) {
  if (cgroup == nullptr) return -EINVAL;
  return storage_delete(&cgroup->bpf_cgrp_storage, map);
}

void* bpf_cgrp_storage_lookup_elem(bpf_map* map, cgroup* cgroup) {
  bpf_local_storage_data* sdata = storage_lookup(&cgroup->bpf_cgrp_storage, map, true);
  return sdata != nullptr ? sdata->data : nullptr;
}

long bpf_cgrp_storage_update_elem(bpf_map* map, cgroup* cgroup, const u64* value, u64 map_flags) {
  return PTR_ERR_OR_ZERO(bpf_local_storage_update(cgroup, SMAP(map), value, map_flags, false, kernel::GFP_ATOMIC));
}

long bpf_cgrp_storage_delete_elem(bpf_map* map, cgroup* cgroup) {
  return storage_delete(&cgroup->bpf_cgrp_storage, map);
}

void bpf_cgrp_storage_free(cgroup* cgroup) {
  check::Charge(cgroup->model_account, -static_cast<int64_t>(storage_free(&cgroup->bpf_cgrp_storage)));
}

void cgroup_kill(cgroup* cgroup) {
  if (kernel::atomic_xchg(&cgroup->self_refcnt_dying, 1) != 0) return;  // percpu_ref_kill
  bpf_cgrp_storage_free(cgroup);                                        // css_free_rwork_fn
}

// ---- allocation -----------------------------------------------------------------

task_struct* alloc_task_struct() {
  task_struct* t = alloc_owner<task_struct>(OwnerKind::kTask, "task_struct");
  if (t != nullptr) t->usage.refs.counter = 1;
  return t;
}

sock* alloc_sock() {
  sock* sk = alloc_owner<sock>(OwnerKind::kSk, "sock");
  if (sk != nullptr) sk->sk_refcnt.refs.counter = 1;
  return sk;
}

inode* alloc_inode() {
  inode* i = alloc_owner<inode>(OwnerKind::kInode, "inode");
  if (i != nullptr) i->i_count.counter = 1;
  return i;
}

cgroup* alloc_cgroup() { return alloc_owner<cgroup>(OwnerKind::kCgroup, "cgroup"); }

}  // namespace reclaimfuzz::storage
