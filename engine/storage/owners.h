// SPDX-License-Identifier: MIT
// The owners of local storage and their helpers (docs/kernel-model.md §1,
// "Owners"):
// task (kernel/bpf/bpf_task_storage.c), sk (net/core/bpf_sk_storage.c),
// inode (kernel/bpf/bpf_inode_storage.c), cgroup
// (kernel/bpf/bpf_cgrp_storage.c), as of ameryhung/bpf @7090b7e6.
//
// Each owner type has:
//   - a storage pointer (task->bpf_storage, sk->sk_bpf_storage, the inode's
//     LSM blob, cgrp->bpf_cgrp_storage), published by cmpxchg and cleared
//     under L_s (or by the free hook after destroy);
//   - a creation guard, so no storage is created on a dying owner (it would
//     leak): task usage != 0, refcount_inc_not_zero(sk_refcnt), inode
//     i_count != 0, !percpu_ref_is_dying(cgroup);
//   - a free hook (bpf_*_storage_free) that destroys the storage;
//   - for sk only, a charge against sysctl_optmem_max on sk_omem_alloc.
//
// Contexts (what a harness may call where):
//   bpf_task_storage_*, bpf_cgrp_storage_*   any program context, NMI too;
//   bpf_sk_storage_get/delete                 task or softirq programs;
//   bpf_sk_storage_*_tracing                  refuse hardirq and NMI themselves;
//   bpf_inode_storage_*                       task-context (LSM) programs;
//   *_lookup_elem/_update_elem/_delete_elem   syscall context (rcu_read_lock);
//   *_release (the last reference)            process context: it destroys.
// All but the release run inside a program (program.h) or a syscall.
//
// MODEL: owner memory stays allocated until teardown frees it, standing for
// the references that keep an owner alive while anything can name it.
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_OWNERS_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_OWNERS_H_

#include "engine/storage/bpf_local_storage.h"

namespace reclaimfuzz::storage {

struct task_struct {
  refcount_t usage;
  bpf_local_storage* bpf_storage;  // __rcu
  int model_account;               // MODEL: accounting ledger
};

struct sock {
  refcount_t sk_refcnt;
  atomic_t sk_omem_alloc;
  bpf_local_storage* sk_bpf_storage;  // __rcu
  int model_account;
};

struct bpf_storage_blob {
  bpf_local_storage* storage;  // __rcu
};

struct inode {
  atomic_t i_count;
  bpf_storage_blob i_security_bpf;  // MODEL: the LSM blob, inline
  int model_account;
};

struct cgroup {
  atomic_t self_refcnt_dying;           // MODEL: percpu_ref_is_dying(&cgrp->self.refcnt)
  bpf_local_storage* bpf_cgrp_storage;  // __rcu
  int model_account;
};

// net.core.optmem_max (one netns). Reset to kDefaultOptmemMax per execution.
inline constexpr int kDefaultOptmemMax = 131072;
extern int sysctl_optmem_max;

extern const bpf_map_ops task_storage_map_ops;
extern const bpf_map_ops sk_storage_map_ops;
extern const bpf_map_ops inode_storage_map_ops;
extern const bpf_map_ops cgrp_storage_map_ops;
const bpf_map_ops* owner_map_ops(OwnerKind kind);

// Helpers return the value (sdata->data) or NULL, and 0 or -errno, as the
// kernel's. `gfp_flags` is the verifier's hidden argument: GFP_KERNEL in
// sleepable programs, GFP_ATOMIC elsewhere.

// ---- task ----
void* bpf_task_storage_get(bpf_map* map, task_struct* task, const u64* value, u64 flags, gfp_t gfp_flags);
long bpf_task_storage_delete(bpf_map* map, task_struct* task);
void* bpf_pid_task_storage_lookup_elem(bpf_map* map, task_struct* task);
long bpf_pid_task_storage_update_elem(bpf_map* map, task_struct* task, const u64* value, u64 map_flags);
long bpf_pid_task_storage_delete_elem(bpf_map* map, task_struct* task);
void bpf_task_storage_free(task_struct* task);

// ---- sk ----
void* bpf_sk_storage_get(bpf_map* map, sock* sk, const u64* value, u64 flags, gfp_t gfp_flags);
long bpf_sk_storage_delete(bpf_map* map, sock* sk);
void* bpf_sk_storage_get_tracing(bpf_map* map, sock* sk, const u64* value, u64 flags, gfp_t gfp_flags);
long bpf_sk_storage_delete_tracing(bpf_map* map, sock* sk);
void* bpf_fd_sk_storage_lookup_elem(bpf_map* map, sock* sk);
long bpf_fd_sk_storage_update_elem(bpf_map* map, sock* sk, const u64* value, u64 map_flags);
long bpf_fd_sk_storage_delete_elem(bpf_map* map, sock* sk);
void bpf_sk_storage_free(sock* sk);

// ---- inode ----
void* bpf_inode_storage_get(bpf_map* map, inode* inode, const u64* value, u64 flags, gfp_t gfp_flags);
long bpf_inode_storage_delete(bpf_map* map, inode* inode);
void* bpf_fd_inode_storage_lookup_elem(bpf_map* map, inode* inode);
long bpf_fd_inode_storage_update_elem(bpf_map* map, inode* inode, const u64* value, u64 map_flags);
long bpf_fd_inode_storage_delete_elem(bpf_map* map, inode* inode);
void bpf_inode_storage_free(inode* inode);

// ---- cgroup ----
void* bpf_cgrp_storage_get(bpf_map* map, cgroup* cgroup, const u64* value, u64 flags, gfp_t gfp_flags);
long bpf_cgrp_storage_delete(bpf_map* map, cgroup* cgroup);
void* bpf_cgrp_storage_lookup_elem(bpf_map* map, cgroup* cgroup);
long bpf_cgrp_storage_update_elem(bpf_map* map, cgroup* cgroup, const u64* value, u64 map_flags);
long bpf_cgrp_storage_delete_elem(bpf_map* map, cgroup* cgroup);
void bpf_cgrp_storage_free(cgroup* cgroup);

// ---- lifecycle: the owner's last reference (process context) ----
// put_task_struct -> __put_task_struct -> bpf_task_storage_free
void put_task_struct(task_struct* task);
// sock_put -> __sk_destruct -> bpf_sk_storage_free, then the kernel's
// optmem leakage check (reported as `accounting`)
void sock_put(sock* sk);
// iput -> destroy_inode -> bpf_inode_storage_free
void iput(inode* inode);
// percpu_ref_kill, then css_free -> bpf_cgrp_storage_free
void cgroup_kill(cgroup* cgroup);

// Allocates an owner with one reference and an accounting ledger entry.
task_struct* alloc_task_struct();
sock* alloc_sock();
inode* alloc_inode();
cgroup* alloc_cgroup();
// The storage pointer of any owner (for tests and reports).
bpf_local_storage** owner_storage_ptr(OwnerKind kind, void* owner);

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_OWNERS_H_
