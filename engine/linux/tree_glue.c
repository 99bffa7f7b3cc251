/* SPDX-License-Identifier: MIT */
/* Per-tree glue, compiled in the same translation unit as the tree's
 * kernel/bpf/bpf_local_storage.c and kernel/bpf/bpf_task_storage.c
 * (tree_unit.c.in), after them: the kernel functions those files call but
 * do not define (from kernel/bpf/syscall.c, kernel/pid.c, kernel/fork.c),
 * and the rf_tree table of entry points the harness calls.
 *
 * RF_TREE_SYMBOL names the table; RF_TREE_NAME the variant; RF_HAVE_RECUR
 * whether the tree has the _recur helpers.
 *
 * Kernel C conventions, as the code it is compiled with (and the shim's
 * headers, engine/linux/include/.clang-format): clang-format is off. */
/* clang-format off */
#include "tree.h"

int btf_tracing_ids[MAX_BTF_TRACING_TYPE];

/* kernel/bpf/syscall.c */
void bpf_map_init_from_attr(struct bpf_map *map, union bpf_attr *attr) {
  map->map_type = attr->map_type;
  map->key_size = attr->key_size;
  map->value_size = attr->value_size;
  map->max_entries = attr->max_entries;
  map->map_flags = attr->map_flags;
  map->numa_node = NUMA_NO_NODE;
  map->map_extra = attr->map_extra;
  map->spin_lock_off = -EINVAL;
  map->timer_off = -EINVAL;
}
bool bpf_map_meta_equal(const struct bpf_map *meta0, const struct bpf_map *meta1) {
  return meta0->map_type == meta1->map_type && meta0->key_size == meta1->key_size &&
         meta0->value_size == meta1->value_size && meta0->map_flags == meta1->map_flags;
}

/* kernel/pid.c: pidfd i names the harness's task i; after the task exits
 * its pid stays, and pid_task() finds no task. The pid holds no reference
 * of its own (the syscall runs under RCU). */
static struct pid rf_pids[64];
struct pid *pidfd_get_pid(unsigned int fd, unsigned int *flags) {
  if (fd >= 64 || (int)fd >= rf_task_count()) return ERR_PTR(-EBADF);
  *flags = 0;
  /* Every task of the execution may look a pidfd up (an atomic: the
   * harness's ThreadSanitizer build sees each task as a thread). */
  __atomic_store_n(&rf_pids[fd].rf_index, (int)fd, __ATOMIC_RELAXED);
  return &rf_pids[fd];
}
struct task_struct *pid_task(struct pid *pid, enum pid_type type) {
  return (struct task_struct *)rf_task_by_index(__atomic_load_n(&pid->rf_index, __ATOMIC_RELAXED));
}

static void *rf_map_create(unsigned int value_size, int spin_lock, int *err) {
  union bpf_attr attr;
  struct bpf_map *map;
  memset(&attr, 0, sizeof(attr));
  attr.map_type = BPF_MAP_TYPE_TASK_STORAGE;
  attr.key_size = sizeof(int);
  attr.value_size = value_size;
  attr.map_flags = BPF_F_NO_PREALLOC;
  attr.btf_key_type_id = 1;
  attr.btf_value_type_id = 2;
  *err = task_storage_map_ops.map_alloc_check(&attr);
  if (*err) return NULL;
  map = task_storage_map_ops.map_alloc(&attr);
  if (IS_ERR(map)) {
    *err = (int)PTR_ERR(map);
    return NULL;
  }
  map->ops = &task_storage_map_ops;
  /* map_check_btf(): the value's special fields. */
  map->record = &map->rf_record;
  if (spin_lock) {
    map->rf_record.field_mask = BPF_SPIN_LOCK;
    map->rf_record.spin_lock_off = 0;
    map->spin_lock_off = 0;
  } else {
    map->rf_record.spin_lock_off = -1;
  }
  return map;
}

static void rf_map_free(void *map) {
  struct bpf_map *m = map;
  m->ops->map_free(m);
}

static void *rf_task_alloc(int index) {
  struct task_struct *t = kzalloc(sizeof(*t), GFP_KERNEL);
  if (!t) return NULL;
  refcount_set(&t->usage, 1);
  t->rf_index = index;
  return t;
}

/* include/linux/sched/task.h put_task_struct(): the last reference runs
 * kernel/fork.c's __put_task_struct() (rf_free_task()), which frees the
 * task's storage, then the task, in the caller's context. */
static void rf_free_task(struct task_struct *t) {
  bpf_task_storage_free(t);
  kfree(t);
}
static void rf_put_task_struct(struct task_struct *t) {
  if (refcount_dec_and_test(&t->usage)) rf_free_task(t);
}
static void rf_delayed_put_task_struct(struct rcu_head *rhp) {
  rf_put_task_struct(container_of(rhp, struct task_struct, rcu));
}
static void rf_task_release(void *task) {
  struct task_struct *t = task;
  call_rcu(&t->rcu, rf_delayed_put_task_struct);
}
/* kernel/pid.c get_pid_task(): the task, with a reference
 * (get_task_struct()), as a task iterator takes it for its program. The
 * kernel's holds rcu_read_lock() from the lookup to the increment so that
 * the task is not freed in between; the harness calls this with no
 * preemption point in it (raw atomics, not the shim's), which gives the same
 * and keeps the schedule's step numbers those of the programs alone. */
static void *rf_get_pid_task(int index) {
  struct task_struct *t = rf_task_by_index(index);
  if (t) __atomic_add_fetch(&t->usage.refs.counter, 1, __ATOMIC_RELAXED);
  return t;
}
/* put_task_struct() of that reference: the decrement without a preemption
 * point; when it is the last one, __put_task_struct() runs here. */
static void rf_put_task(void *task) {
  struct task_struct *t = task;
  if (__atomic_sub_fetch(&t->usage.refs.counter, 1, __ATOMIC_ACQ_REL) == 0) rf_free_task(t);
}
static void *rf_task_storage(void *task) { return ((struct task_struct *)task)->bpf_storage; }

static void *rf_helper_get(void *map, void *task, void *value, unsigned long long flags, unsigned int gfp,
                           int recur) {
  const struct bpf_func_proto *proto = &bpf_task_storage_get_proto;
#ifdef RF_HAVE_RECUR
  if (recur) proto = &bpf_task_storage_get_recur_proto;
#endif
  return (void *)(uintptr_t)proto->func((u64)(uintptr_t)map, (u64)(uintptr_t)task, (u64)(uintptr_t)value,
                                        flags, gfp);
}
static long rf_helper_delete(void *map, void *task, int recur) {
  const struct bpf_func_proto *proto = &bpf_task_storage_delete_proto;
#ifdef RF_HAVE_RECUR
  if (recur) proto = &bpf_task_storage_delete_recur_proto;
#endif
  return (long)proto->func((u64)(uintptr_t)map, (u64)(uintptr_t)task, 0, 0, 0);
}
static void *rf_lookup_elem(void *map, int pidfd, long *err) {
  struct bpf_map *m = map;
  void *v = m->ops->map_lookup_elem(m, &pidfd);
  *err = IS_ERR(v) ? PTR_ERR(v) : 0;
  return IS_ERR(v) ? NULL : v;
}
static long rf_update_elem(void *map, int pidfd, void *value, unsigned long long flags) {
  struct bpf_map *m = map;
  return m->ops->map_update_elem(m, &pidfd, value, flags);
}
static long rf_delete_elem(void *map, int pidfd) {
  struct bpf_map *m = map;
  return m->ops->map_delete_elem(m, &pidfd);
}

__attribute__((visibility("default"))) const struct rf_tree RF_TREE_SYMBOL = {
    .name = RF_TREE_NAME,
    .version = RF_LINUX_VERSION,
#ifdef RF_HAVE_RECUR
    .has_recur = 1,
#endif
    .map_create = rf_map_create,
    .map_free = rf_map_free,
    .task_alloc = rf_task_alloc,
    .task_release = rf_task_release,
    .get_pid_task = rf_get_pid_task,
    .put_task = rf_put_task,
    .task_storage = rf_task_storage,
    .helper_get = rf_helper_get,
    .helper_delete = rf_helper_delete,
    .lookup_elem = rf_lookup_elem,
    .update_elem = rf_update_elem,
    .delete_elem = rf_delete_elem,
};
