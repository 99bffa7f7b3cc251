/* SPDX-License-Identifier: MIT */
/* The BPF core the storage files build on (linux/bpf.h, filter.h,
 * btf_ids.h, bpf_mem_alloc.h, uapi/linux/bpf.h, uapi/linux/btf.h), written
 * for reclaimfuzz: struct bpf_map and its ops, union bpf_attr, helper
 * prototypes and BPF_CALL_n, the map-value helpers, and the BTF record of
 * special fields, as far as BPF local storage uses them.
 *
 * RF_LINUX_VERSION (set by the build from the tree's Makefile) selects the
 * few signatures that changed: map_update_elem/map_delete_elem return long
 * from v6.4 on, and struct btf_record replaced map->spin_lock_off in v6.2.
 */
#ifndef RF_BPF_H
#define RF_BPF_H

#include "rf_shim.h"

#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))
#ifndef RF_LINUX_VERSION
#error "RF_LINUX_VERSION must be set to the tree's KERNEL_VERSION(a,b,c)"
#endif
#define LINUX_VERSION_CODE RF_LINUX_VERSION
#if RF_LINUX_VERSION >= KERNEL_VERSION(6, 4, 0)
typedef long rf_map_ret_t;
#else
typedef int rf_map_ret_t;
#endif
/* map_check_btf() took a const map until the 7.0 cycle. */
#if RF_LINUX_VERSION >= KERNEL_VERSION(7, 0, 0)
#define RF_CHECK_BTF_CONST
#else
#define RF_CHECK_BTF_CONST const
#endif

/* ---- uapi ---------------------------------------------------------------- */
enum bpf_map_type { BPF_MAP_TYPE_UNSPEC = 0, BPF_MAP_TYPE_TASK_STORAGE = 29 };
#define BPF_ANY 0
#define BPF_NOEXIST 1
#define BPF_EXIST 2
#define BPF_F_LOCK 4
#define BPF_F_NO_PREALLOC (1U << 0)
#define BPF_F_CLONE (1U << 9)
#define BPF_F_MMAPABLE (1U << 10)
#define BPF_LOCAL_STORAGE_GET_F_CREATE (1ULL << 0)
#define MAX_BPF_STACK 512
union bpf_attr {
  struct {
    u32 map_type;
    u32 key_size;
    u32 value_size;
    u32 max_entries;
    u32 map_flags;
    u32 inner_map_fd;
    u32 numa_node;
    char map_name[16];
    u32 map_ifindex;
    u32 btf_fd;
    u32 btf_key_type_id;
    u32 btf_value_type_id;
    u32 btf_vmlinux_value_type_id;
    u64 map_extra;
  };
};
struct bpf_spin_lock { u32 val; };

/* uapi/linux/btf.h */
struct btf_type { u32 name_off; u32 info; union { u32 size; u32 type; }; };
#define BTF_INFO_KIND(info) (((info) >> 24) & 0x1f)
#define BTF_KIND_INT 1
#define BTF_INT_ENCODING(VAL) (((VAL) & 0x0f000000) >> 24)
#define BTF_INT_OFFSET(VAL) (((VAL) & 0x00ff0000) >> 16)
#define BTF_INT_BITS(VAL) ((VAL) & 0x000000ff)
static inline bool btf_type_is_i32(const struct btf_type *t) {
  u32 int_data = *(const u32 *)(t + 1);
  return BTF_INFO_KIND(t->info) == BTF_KIND_INT && BTF_INT_BITS(int_data) == 32 && !BTF_INT_OFFSET(int_data);
}
struct btf;

/* ---- special fields of a map value (BTF record) ------------------------- */
enum btf_field_type { BPF_SPIN_LOCK = (1 << 0), BPF_TIMER = (1 << 1), BPF_KPTR_UNREF = (1 << 2),
                      BPF_KPTR_REF = (1 << 3), BPF_UPTR = (1 << 4) };
struct btf_record {
  u32 field_mask;
  int spin_lock_off;
};
static inline bool btf_record_has_field(const struct btf_record *rec, enum btf_field_type type) {
  return rec && (rec->field_mask & type);
}

/* ---- maps ------------------------------------------------------------------ */
struct bpf_map;
struct bpf_local_storage_map;
struct bpf_local_storage;
struct bpf_map_ops {
  int (*map_alloc_check)(union bpf_attr *attr);
  struct bpf_map *(*map_alloc)(union bpf_attr *attr);
  void (*map_release)(struct bpf_map *map, void *map_file);
  void (*map_free)(struct bpf_map *map);
  int (*map_get_next_key)(struct bpf_map *map, void *key, void *next_key);
  void *(*map_lookup_elem)(struct bpf_map *map, void *key);
  rf_map_ret_t (*map_update_elem)(struct bpf_map *map, void *key, void *value, u64 flags);
  rf_map_ret_t (*map_delete_elem)(struct bpf_map *map, void *key);
  bool (*map_meta_equal)(const struct bpf_map *meta0, const struct bpf_map *meta1);
  int (*map_check_btf)(RF_CHECK_BTF_CONST struct bpf_map *map, const struct btf *btf,
                       const struct btf_type *key_type, const struct btf_type *value_type);
  u64 (*map_mem_usage)(const struct bpf_map *map);
  int (*map_local_storage_charge)(struct bpf_local_storage_map *smap, void *owner, u32 size);
  void (*map_local_storage_uncharge)(struct bpf_local_storage_map *smap, void *owner, u32 size);
  struct bpf_local_storage __rcu **(*map_owner_storage_ptr)(void *owner);
  int *map_btf_id;
};
struct bpf_map {
  const struct bpf_map_ops *ops;
  struct btf_record *record;
  enum bpf_map_type map_type;
  u32 key_size;
  u32 value_size;
  u32 max_entries;
  u64 map_extra;
  u32 map_flags;
  int spin_lock_off; /* before v6.2: -EINVAL when the value has no bpf_spin_lock */
  int timer_off;
  u32 id;
  int numa_node;
  u32 btf_key_type_id;
  u32 btf_value_type_id;
  struct btf_record rf_record; /* what `record` points to */
};
void bpf_map_init_from_attr(struct bpf_map *map, union bpf_attr *attr);
bool bpf_map_meta_equal(const struct bpf_map *meta0, const struct bpf_map *meta1);
static inline bool map_value_has_spin_lock(const struct bpf_map *map) { return map->spin_lock_off >= 0; }
static inline bool map_value_has_timer(const struct bpf_map *map) { return map->timer_off >= 0; }
#define bpf_map_kzalloc(map, size, flags) rf_kmalloc((size), (flags) | __GFP_ZERO, __func__)
#define bpf_map_kmalloc_node(map, size, flags, node) rf_kmalloc((size), (flags), __func__)
#define bpf_map_kmalloc_nolock(map, size, flags, node) rf_kmalloc_nolock((size), (flags), __func__)
#define bpf_map_kvcalloc(map, n, size, flags) rf_kmalloc((n) * (size), (flags) | __GFP_ZERO, __func__)
#define bpf_map_area_alloc(size, node) rf_kmalloc((size), GFP_KERNEL | __GFP_ZERO, __func__)
#define bpf_map_area_free(p) rf_kfree((p), __func__)
static inline bool bpf_capable(void) { return true; }

/* bpf_spin_lock in a map value (kernel/bpf/helpers.c): IRQs off, spin. */
static inline unsigned long rf_value_lock(struct bpf_spin_lock *lock) {
  unsigned long flags;
  local_irq_save(flags);
  preempt_disable();
  while (cmpxchg(&lock->val, 0u, 1u) != 0) cpu_relax();
  return flags;
}
static inline void rf_value_unlock(struct bpf_spin_lock *lock, unsigned long flags) {
  smp_store_release(&lock->val, 0u);
  preempt_enable();
  local_irq_restore(flags);
}
static inline int rf_spin_lock_off(const struct bpf_map *map) {
  return btf_record_has_field(map->record, BPF_SPIN_LOCK) ? map->record->spin_lock_off : -1;
}
/* A value's bytes are racy by design: programs load and store them with no
 * lock (only a bpf_spin_lock field orders anything), so the kernel's memcpy()
 * races with them. Copied here as relaxed atomics, 8-byte words where
 * aligned, as the model's copy_map_value() writes them with WRITE_ONCE():
 * ThreadSanitizer then reports races with the value's free, not with its
 * data. */
static inline void rf_copy_value_bytes(void *dst, const void *src, unsigned int size) {
  char *d = dst;
  const char *s = src;
  unsigned int i = 0;
  if ((((uintptr_t)d | (uintptr_t)s | size) & 7) == 0) {
    for (; i < size; i += 8)
      __atomic_store_n((u64 *)(d + i), __atomic_load_n((const u64 *)(s + i), __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    return;
  }
  for (; i < size; ++i) __atomic_store_n(d + i, __atomic_load_n(s + i, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}
/* Copies a value around its bpf_spin_lock (kernel's copy_map_value). */
static inline void copy_map_value(struct bpf_map *map, void *dst, void *src) {
  int off = rf_spin_lock_off(map);
  if (off < 0) {
    rf_copy_value_bytes(dst, src, map->value_size);
    return;
  }
  rf_copy_value_bytes(dst, src, off);
  rf_copy_value_bytes((char *)dst + off + sizeof(struct bpf_spin_lock),
                      (char *)src + off + sizeof(struct bpf_spin_lock),
                      map->value_size - off - sizeof(struct bpf_spin_lock));
}
static inline void copy_map_value_locked(struct bpf_map *map, void *dst, void *src, bool lock_src) {
  struct bpf_spin_lock *lock = (struct bpf_spin_lock *)((char *)(lock_src ? src : dst) + rf_spin_lock_off(map));
  unsigned long flags = rf_value_lock(lock);
  copy_map_value(map, dst, src);
  rf_value_unlock(lock, flags);
}
static inline void check_and_init_map_value(struct bpf_map *map, void *dst) {}
/* No kptr or timer fields: the harness rejects maps that would need them. */
static inline void bpf_obj_free_fields(const struct btf_record *rec, void *obj) {}
static inline void bpf_obj_swap_uptrs(const struct btf_record *rec, void *dst, void *src) {}

/* ---- helpers (filter.h) ------------------------------------------------------
 * BPF_CALL_n defines the helper with five u64 arguments, as the BPF
 * calling convention and struct bpf_func_proto's .func have them. */
#define RF_CALL_ARG(t, i) ((t)(uintptr_t)r##i)
#define BPF_CALL_2(name, t1, a1, t2, a2)                                               \
  static u64 ____##name(t1 a1, t2 a2);                                                 \
  u64 name(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);                                    \
  u64 name(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {                                   \
    return ____##name(RF_CALL_ARG(t1, 1), RF_CALL_ARG(t2, 2));                         \
  }                                                                                    \
  static u64 ____##name(t1 a1, t2 a2)
#define BPF_CALL_4(name, t1, a1, t2, a2, t3, a3, t4, a4)                               \
  static u64 ____##name(t1 a1, t2 a2, t3 a3, t4 a4);                                   \
  u64 name(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);                                    \
  u64 name(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {                                   \
    return ____##name(RF_CALL_ARG(t1, 1), RF_CALL_ARG(t2, 2), RF_CALL_ARG(t3, 3),      \
                      RF_CALL_ARG(t4, 4));                                             \
  }                                                                                    \
  static u64 ____##name(t1 a1, t2 a2, t3 a3, t4 a4)
#define BPF_CALL_5(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                       \
  static u64 ____##name(t1 a1, t2 a2, t3 a3, t4 a4, t5 a5);                            \
  u64 name(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);                                    \
  u64 name(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {                                   \
    return ____##name(RF_CALL_ARG(t1, 1), RF_CALL_ARG(t2, 2), RF_CALL_ARG(t3, 3),      \
                      RF_CALL_ARG(t4, 4), RF_CALL_ARG(t5, 5));                         \
  }                                                                                    \
  static u64 ____##name(t1 a1, t2 a2, t3 a3, t4 a4, t5 a5)
enum bpf_return_type { RET_INTEGER = 0, RET_PTR_TO_MAP_VALUE_OR_NULL = 1 };
enum bpf_arg_type { ARG_DONTCARE = 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_BTF_ID, ARG_PTR_TO_BTF_ID_OR_NULL,
                    ARG_PTR_TO_MAP_VALUE_OR_NULL, ARG_ANYTHING, ARG_PTR_TO_BTF_ID_SOCK_COMMON,
                    ARG_PTR_TO_MAP_VALUE, ARG_PTR_TO_UNINIT_MAP_VALUE };
struct bpf_func_proto {
  u64 (*func)(u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);
  bool gpl_only;
  bool pkt_access;
  bool might_sleep;
  enum bpf_return_type ret_type;
  enum bpf_arg_type arg1_type, arg2_type, arg3_type, arg4_type, arg5_type;
  int *arg1_btf_id, *arg2_btf_id, *arg3_btf_id, *arg4_btf_id, *arg5_btf_id;
  bool (*allowed)(const void *prog);
};

/* ---- BTF ids (btf_ids.h): storage only, no resolution -------------------- */
#define BTF_ID_LIST_SINGLE(name, prefix, typename) static int name[1];
#define BTF_ID_LIST_GLOBAL_SINGLE(name, prefix, typename) int name[1];
enum { BTF_TRACING_TYPE_TASK, BTF_TRACING_TYPE_FILE, BTF_TRACING_TYPE_VMA, MAX_BTF_TRACING_TYPE };
extern int btf_tracing_ids[];

/* ---- bpf_mem_alloc (bpf_mem_alloc.h): engine/linux/mem_alloc.cc ---------- */
struct bpf_mem_alloc { struct rf_mem_alloc *rf; };
static inline int rf_bpf_mem_alloc_init(struct bpf_mem_alloc *ma, int size, const char *type) {
  ma->rf = rf_mem_alloc_init((unsigned int)size, type);
  return ma->rf ? 0 : -ENOMEM;
}
/* The unit's object kind for reports, from the allocator's name. */
#define bpf_mem_alloc_init(ma, size, percpu)                                                     \
  rf_bpf_mem_alloc_init((ma), (size),                                                            \
                        __builtin_strstr(#ma, "selem") ? "bpf_local_storage_elem (bpf_mem_alloc)" \
                                                       : "bpf_local_storage (bpf_mem_alloc)")
static inline void bpf_mem_alloc_destroy(struct bpf_mem_alloc *ma) { rf_mem_alloc_destroy(ma->rf); ma->rf = NULL; }
#define bpf_mem_cache_alloc_flags(ma, flags) rf_mem_cache_alloc((ma)->rf, (flags))
#define bpf_mem_cache_alloc(ma) rf_mem_cache_alloc((ma)->rf, GFP_NOWAIT)
#define bpf_mem_cache_free(ma, p) rf_mem_cache_free((ma)->rf, (p))
#define bpf_mem_cache_raw_free(p) rf_mem_cache_raw_free((p))

/* ---- sockets (net/sock.h): only names the storage files mention -------- */
struct sock;

#endif /* RF_BPF_H */
