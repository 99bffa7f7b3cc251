/* SPDX-License-Identifier: MIT */
/* What the harness (C++) reaches in one compiled kernel tree: a table of
 * entry points defined by tree_glue.c, the only global symbol the tree's
 * object keeps (every other one is made local, so several trees link into
 * one binary). Plain C types only. */
#ifndef RF_TREE_H
#define RF_TREE_H

#ifdef __cplusplus
extern "C" {
#endif

struct rf_tree {
  const char* name;     /* "linux-6.12" */
  unsigned int version; /* KERNEL_VERSION(a, b, c) of the tree's Makefile */
  int has_recur;        /* bpf_task_storage_{get,delete}_recur exist */
  /* bpf(BPF_MAP_CREATE) of a BPF_MAP_TYPE_TASK_STORAGE map with a value of
   * value_size bytes (a bpf_spin_lock at offset 0 if spin_lock): the map
   * ops' map_alloc_check and map_alloc, then map->ops and the BTF record,
   * as map_create() in kernel/bpf/syscall.c. NULL and *err on failure. */
  void* (*map_create)(unsigned int value_size, int spin_lock, int* err);
  /* bpf_map_free_deferred(): map->ops->map_free(map), in a kworker. */
  void (*map_free)(void* map);
  /* A task_struct with usage 1, reachable as pidfd `index`. */
  void* (*task_alloc)(int index);
  /* The task's last reference went with its RCU users: call_rcu() of
   * delayed_put_task_struct, which drops usage to 0 and runs
   * __put_task_struct(): bpf_task_storage_free(), then the task's memory. */
  void (*task_release)(void* task);
  /* get_pid_task(): task `index` with a reference (usage + 1) while it is
   * in the pid table, else NULL. */
  void* (*get_pid_task)(int index);
  /* put_task_struct(): the last reference runs __put_task_struct() in the
   * caller's context. */
  void (*put_task)(void* task);
  void* (*task_storage)(void* task); /* task->bpf_storage (reports, tests) */
  /* Helpers, through their bpf_func_proto's .func (BPF_CALL_n). */
  void* (*helper_get)(void* map, void* task, void* value, unsigned long long flags, unsigned int gfp, int recur);
  long (*helper_delete)(void* map, void* task, int recur);
  /* Syscall map ops (the caller holds rcu_read_lock + migrate_disable). */
  void* (*lookup_elem)(void* map, int pidfd, long* err);
  long (*update_elem)(void* map, int pidfd, void* value, unsigned long long flags);
  long (*delete_elem)(void* map, int pidfd);
};

/* The harness's task table (linux_tree::SetTaskTable()), for
 * pidfd_get_pid()/pid_task(): task `index`, NULL once it exited. */
void* rf_task_by_index(int index);
int rf_task_count(void);

#ifdef __cplusplus
}
#endif
#endif /* RF_TREE_H */
