/* SPDX-License-Identifier: MIT */
/* The kernel shim for real trees: the kernel names that
 * kernel/bpf/bpf_local_storage.c, kernel/bpf/bpf_task_storage.c and
 * include/linux/bpf_local_storage.h use, written for reclaimfuzz and mapped
 * onto its virtual machine (engine/kernel, engine/rcu, engine/sched) through
 * the rf_* hooks of rf_hooks.h (engine/linux/runtime.cc).
 *
 * Every named header (linux/rculist.h, linux/bpf.h, ...) includes this one.
 * Trees are compiled with -nostdinc -ffreestanding, so a header the tree
 * needs and the shim lacks is a build error naming it.
 *
 * Concurrency contract, as the kernel's:
 *   - every marked access (READ_ONCE/WRITE_ONCE, rcu_dereference*,
 *     rcu_assign_pointer, list pointer writes, atomics, this_cpu_*) is a
 *     preemption point: another vCPU, a same-CPU preemption (as the
 *     preemption model allows) or an interrupt may run before it;
 *   - locks, RCU read sections, preempt/migrate/IRQ state are the
 *     machine's (engine/kernel/context.h, engine/rcu/rcu.h);
 *   - a GFP_KERNEL allocation and cond_resched() are points where the task
 *     may be preempted even under voluntary preemption, and an allocation
 *     that can fail in the kernel fails when the schedule says so.
 * Plain C accesses are not points: the kernel gives them no ordering
 * either, and ThreadSanitizer reports them when they race.
 */
#ifndef RF_SHIM_H
#define RF_SHIM_H

#include "rf_hooks.h"

/* ---- types (linux/types.h) ------------------------------------------- */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s32 __s32;
typedef s64 __s64;
typedef _Bool bool;
#define true 1
#define false 0
typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned long uintptr_t;
typedef long intptr_t;
typedef unsigned int gfp_t;
typedef int pid_t;
#define NULL ((void *)0)
#define offsetof(t, m) __builtin_offsetof(t, m)

#define U16_MAX ((u16)~0U)
#define U32_MAX ((u32)~0U)
#define U64_MAX ((u64)~0ULL)
#define INT_MAX ((int)(~0U >> 1))

/* ---- compiler ------------------------------------------------------------ */
#define __rcu
#define __percpu
#define __user
#define __force
#define __must_check
#define __init
#define __always_inline inline __attribute__((always_inline))
#define noinline __attribute__((noinline))
#define notrace
#define __aligned(x) __attribute__((aligned(x)))
#define L1_CACHE_BYTES 64
#define SMP_CACHE_BYTES 64
#define ____cacheline_aligned __attribute__((aligned(SMP_CACHE_BYTES)))
#define __read_mostly
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define IS_ENABLED(option) 0 /* no CONFIG_ option is set: see README */
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
#define __stringify(x) #x
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define barrier() __asm__ __volatile__("" ::: "memory")
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_mb__before_atomic() smp_mb()
#define smp_mb__after_atomic() smp_mb()

#define container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define max_t(type, a, b) ((type)(a) > (type)(b) ? (type)(a) : (type)(b))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

static inline int rf_fls64(u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }
#define ilog2(n) (rf_fls64((u64)(n)) - 1)
#define roundup_pow_of_two(n) ((n) <= 1 ? 1UL : 1UL << rf_fls64((u64)(n) - 1))
#define is_power_of_2(n) ((n) != 0 && (((n) & ((n) - 1)) == 0))

#define READ_ONCE(x)                                              \
  ({                                                              \
    rf_point(RF_POINT_ACCESS, "READ_ONCE(" #x ")");               \
    __atomic_load_n(&(x), __ATOMIC_RELAXED);                      \
  })
#define WRITE_ONCE(x, v)                                          \
  do {                                                            \
    rf_point(RF_POINT_ACCESS, "WRITE_ONCE(" #x ")");              \
    __atomic_store_n(&(x), (v), __ATOMIC_RELAXED);                \
  } while (0)
#define smp_load_acquire(p)                                       \
  ({                                                              \
    rf_point(RF_POINT_ACCESS, "smp_load_acquire(" #p ")");        \
    __atomic_load_n((p), __ATOMIC_ACQUIRE);                       \
  })
#define smp_store_release(p, v)                                   \
  do {                                                            \
    rf_point(RF_POINT_ACCESS, "smp_store_release(" #p ")");       \
    __atomic_store_n((p), (v), __ATOMIC_RELEASE);                 \
  } while (0)

#define cmpxchg(p, o, n)                                                     \
  ({                                                                         \
    __typeof__(*(p)) rf_old_ = (o);                                          \
    rf_point(RF_POINT_ATOMIC, "cmpxchg(" #p ")");                            \
    __atomic_compare_exchange_n((p), &rf_old_, (n), 0, __ATOMIC_SEQ_CST,     \
                                __ATOMIC_SEQ_CST);                           \
    rf_old_;                                                                 \
  })
#define xchg(p, n)                                                           \
  ({                                                                         \
    rf_point(RF_POINT_ATOMIC, "xchg(" #p ")");                               \
    __atomic_exchange_n((p), (n), __ATOMIC_SEQ_CST);                         \
  })
#define cpu_relax() rf_point(RF_POINT_SPIN, "cpu_relax")

/* ---- errors (linux/err.h, errno) ---------------------------------------- */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define E2BIG 7
#define EDEADLK 35
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define ENOTSUPP 524
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }
static inline int PTR_ERR_OR_ZERO(const void *ptr) { return IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0; }

#define WARN_ON_ONCE(c) ({ bool rf_c_ = !!(c); if (rf_c_) rf_warn(#c, __FILE__, __LINE__); rf_c_; })
#define WARN_ON(c) WARN_ON_ONCE(c)
#define BUG_ON(c) do { if (c) rf_bug(#c, __FILE__, __LINE__); } while (0)

/* ---- string ---------------------------------------------------------------- */
#define memset __builtin_memset
#define memcpy __builtin_memcpy

/* ---- context (preempt.h, irqflags.h, smp.h, sched.h) --------------------- */
#define preempt_disable() rf_preempt_disable()
#define preempt_enable() rf_preempt_enable()
#define migrate_disable() rf_migrate_disable()
#define migrate_enable() rf_migrate_enable()
#define local_irq_save(f) ((f) = rf_local_irq_save())
#define local_irq_restore(f) rf_local_irq_restore(f)
#define in_nmi() rf_in_nmi()
#define in_hardirq() rf_in_hardirq()
#define in_task() rf_in_task()
#define irqs_disabled() rf_irqs_disabled()
#define smp_processor_id() rf_cpu()
#define raw_smp_processor_id() rf_cpu()
#define num_possible_cpus() rf_nr_cpus()
#define nr_cpu_ids rf_nr_cpus()
#define cond_resched() rf_cond_resched()
/* MODEL: no tick sets TIF_NEED_RESCHED; cond_resched() is where the
 * schedule may preempt. */
#define need_resched() 0
#define might_sleep() rf_might_sleep("might_sleep")
#define NUMA_NO_NODE (-1)
#define cpu_to_node(c) 0

/* ---- per-CPU data (percpu.h) ------------------------------------------------
 * DEFINE_PER_CPU variables stay scalars in the section rf_percpu; each vCPU
 * has its own copy of that section, reset from the pristine image every
 * execution, and this_cpu_ptr()/per_cpu_ptr() translate an address in the
 * section to the vCPU's copy. */
#define DEFINE_PER_CPU(type, name) \
  __attribute__((section("rf_percpu"), aligned(64))) __typeof__(type) name
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) name
#define per_cpu_ptr(p, cpu) ((__typeof__(p))rf_per_cpu_ptr((p), (cpu)))
#define this_cpu_ptr(p) per_cpu_ptr((p), rf_cpu())
#define raw_cpu_ptr(p) this_cpu_ptr(p)
#define per_cpu(var, cpu) (*per_cpu_ptr(&(var), (cpu)))
#define this_cpu_read(var) ({ rf_point(RF_POINT_ACCESS, "this_cpu_read(" #var ")"); *this_cpu_ptr(&(var)); })
#define this_cpu_write(var, v) do { rf_point(RF_POINT_ACCESS, "this_cpu_write(" #var ")"); *this_cpu_ptr(&(var)) = (v); } while (0)
/* this_cpu_inc() and friends are one irq-safe instruction on x86. */
#define this_cpu_add_return(var, n)                                      \
  ({                                                                     \
    rf_point(RF_POINT_ATOMIC, "this_cpu_add(" #var ")");                 \
    __atomic_add_fetch(this_cpu_ptr(&(var)), (n), __ATOMIC_RELAXED);     \
  })
#define this_cpu_inc_return(var) this_cpu_add_return(var, 1)
#define this_cpu_dec_return(var) this_cpu_add_return(var, -1)
#define this_cpu_inc(var) ((void)this_cpu_add_return(var, 1))
#define this_cpu_dec(var) ((void)this_cpu_add_return(var, -1))
#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < rf_nr_cpus(); (cpu)++)

/* ---- atomics and refcounts --------------------------------------------- */
typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;
typedef struct { long long counter; } atomic64_t;
#define ATOMIC_INIT(i) { (i) }
#define atomic_read(v) READ_ONCE((v)->counter)
#define atomic_set(v, i) WRITE_ONCE((v)->counter, (i))
#define atomic_add_return(i, v) ({ rf_point(RF_POINT_ATOMIC, "atomic_add_return(" #v ")"); __atomic_add_fetch(&(v)->counter, (i), __ATOMIC_SEQ_CST); })
#define atomic_inc_return(v) atomic_add_return(1, v)
#define atomic_dec_return(v) atomic_add_return(-1, v)
#define atomic_inc(v) ((void)atomic_add_return(1, v))
#define atomic_dec(v) ((void)atomic_add_return(-1, v))
#define atomic_dec_and_test(v) (atomic_add_return(-1, v) == 0)
#define atomic_cmpxchg(v, o, n) cmpxchg(&(v)->counter, (o), (n))
#define atomic_or(i, v) ((void)({ rf_point(RF_POINT_ATOMIC, "atomic_or(" #v ")"); __atomic_fetch_or(&(v)->counter, (i), __ATOMIC_SEQ_CST); }))
#define atomic_fetch_or(i, v) ({ rf_point(RF_POINT_ATOMIC, "atomic_fetch_or(" #v ")"); __atomic_fetch_or(&(v)->counter, (i), __ATOMIC_SEQ_CST); })
#define atomic_xchg(v, n) xchg(&(v)->counter, (n))
#define atomic_long_read(v) READ_ONCE((v)->counter)
#define atomic_long_set(v, i) WRITE_ONCE((v)->counter, (i))
#define atomic64_read(v) READ_ONCE((v)->counter)
typedef struct { atomic_t refs; } refcount_t;
#define REFCOUNT_INIT(n) { .refs = ATOMIC_INIT(n) }
#define refcount_read(r) atomic_read(&(r)->refs)
#define refcount_set(r, n) atomic_set(&(r)->refs, (n))
#define refcount_inc(r) atomic_inc(&(r)->refs)
#define refcount_dec_and_test(r) atomic_dec_and_test(&(r)->refs)
#define refcount_dec(r) atomic_dec(&(r)->refs)
static inline bool refcount_inc_not_zero(refcount_t *r) {
  int old = atomic_read(&r->refs);
  while (old != 0) {
    int seen = atomic_cmpxchg(&r->refs, old, old + 1);
    if (seen == old) return true;
    old = seen;
  }
  return false;
}

/* ---- hash (linux/hash.h) -------------------------------------------------
 * MODEL: the kernel hashes the pointer's address; rf_stable_address() maps
 * an address to a value fixed by the execution (the object's allocation
 * order and the offset into it), so bucket choice, and with it every lock
 * contention, replays exactly in every process. */
#define GOLDEN_RATIO_32 0x61C88647
#define GOLDEN_RATIO_64 0x61C8864680B583EBull
static inline u32 hash_32(u32 val, unsigned int bits) { return (val * GOLDEN_RATIO_32) >> (32 - bits); }
static inline u32 hash_64(u64 val, unsigned int bits) { return (u32)((val * GOLDEN_RATIO_64) >> (64 - bits)); }
#define hash_long(val, bits) hash_64((val), (bits))
static inline u32 hash_ptr(const void *ptr, unsigned int bits) { return hash_long(rf_stable_address(ptr), bits); }

/* ---- lists (linux/list.h, rculist.h) with CONFIG_DEBUG_LIST checks ----- */
#define LIST_POISON1 ((void *)0x100)
#define LIST_POISON2 ((void *)0x122)
struct list_head { struct list_head *next, *prev; };
struct hlist_head { struct hlist_node *first; };
struct hlist_node { struct hlist_node *next, **pprev; };
#define HLIST_HEAD_INIT { .first = NULL }
#define HLIST_HEAD(name) struct hlist_head name = { .first = NULL }
#define INIT_HLIST_HEAD(ptr) ((ptr)->first = NULL)
static inline void INIT_HLIST_NODE(struct hlist_node *h) { h->next = NULL; h->pprev = NULL; }
#define hlist_entry(ptr, type, member) container_of(ptr, type, member)
#define hlist_entry_safe(ptr, type, member) \
  ({ __typeof__(ptr) rf_p_ = (ptr); rf_p_ ? hlist_entry(rf_p_, type, member) : NULL; })
static inline int hlist_unhashed(const struct hlist_node *h) { return !h->pprev; }
static inline int hlist_unhashed_lockless(const struct hlist_node *h) { return !READ_ONCE(h->pprev); }
static inline int hlist_empty(const struct hlist_head *h) { return !READ_ONCE(h->first); }
static inline bool hlist_is_singular_node(struct hlist_node *n, struct hlist_head *h) {
  return !n->next && n->pprev == &h->first;
}
#define hlist_first_rcu(head) (*((struct hlist_node __rcu **)(&(head)->first)))
#define hlist_next_rcu(node) (*((struct hlist_node __rcu **)(&(node)->next)))
#define hlist_pprev_rcu(node) (*((struct hlist_node __rcu **)((node)->pprev)))

static inline void rf_hlist_check_del(struct hlist_node *n) {
  rf_list_check_live(n, "hlist_del: the node");
  if (n->pprev == LIST_POISON2 || n->next == LIST_POISON1)
    rf_list_corruption("hlist_del on a deleted node", n);
  if (n->pprev) rf_list_check_live(n->pprev, "hlist_del: the previous node (pprev)");
  if (n->pprev && *n->pprev != n) rf_list_corruption("hlist_del: *pprev does not point back", n);
  if (n->next) rf_list_check_live(n->next, "hlist_del: the next node");
  if (n->next && n->next->pprev != &n->next)
    rf_list_corruption("hlist_del: next->pprev does not point back", n);
}
static inline void __hlist_del(struct hlist_node *n) {
  struct hlist_node *next = n->next;
  struct hlist_node **pprev = n->pprev;
  rf_hlist_check_del(n);
  WRITE_ONCE(*pprev, next);
  if (next) WRITE_ONCE(next->pprev, pprev);
}
static inline void hlist_del(struct hlist_node *n) {
  __hlist_del(n);
  n->next = LIST_POISON1;
  n->pprev = LIST_POISON2;
}
static inline void hlist_del_init(struct hlist_node *n) {
  if (!hlist_unhashed(n)) {
    __hlist_del(n);
    INIT_HLIST_NODE(n);
  }
}
static inline void hlist_del_rcu(struct hlist_node *n) {
  __hlist_del(n);
  WRITE_ONCE(n->pprev, LIST_POISON2);
}
static inline void hlist_del_init_rcu(struct hlist_node *n) {
  if (!hlist_unhashed(n)) {
    __hlist_del(n);
    WRITE_ONCE(n->pprev, NULL);
  }
}
static inline void rf_hlist_check_add(struct hlist_node *n, struct hlist_head *h) {
  rf_list_check_live(n, "hlist_add_head: the node to add");
  if (h->first) rf_list_check_live(h->first, "hlist_add_head: head->first");
  if (h->first == n) rf_list_corruption("hlist_add_head: node already first", n);
  if (h->first && h->first->pprev != &h->first)
    rf_list_corruption("hlist_add_head: first->pprev does not point back", h->first);
}
/* WRITE_ONCE(first->pprev, &n->next) of an add, checked between its
 * preemption point and the store (rf_hlist_check_add_first()). */
static inline void rf_hlist_store_first_pprev(struct hlist_node *first, struct hlist_head *h,
                                              struct hlist_node *n) {
  rf_point(RF_POINT_ACCESS, "WRITE_ONCE(first->pprev)");
  rf_hlist_check_add_first(first, (void *const *)&first->pprev, &h->first);
  __atomic_store_n(&first->pprev, &n->next, __ATOMIC_RELAXED);
}
static inline void hlist_add_head(struct hlist_node *n, struct hlist_head *h) {
  struct hlist_node *first = h->first;
  rf_hlist_check_add(n, h);
  WRITE_ONCE(n->next, first);
  if (first) rf_hlist_store_first_pprev(first, h, n);
  WRITE_ONCE(h->first, n);
  WRITE_ONCE(n->pprev, &h->first);
}
#define rcu_assign_pointer(p, v) smp_store_release(&(p), (__typeof__(p))(v))
/* MODEL: a release store, where the kernel's is plain. Readers that load
 * the NULL it writes and then free (bpf_task_storage_free() finding
 * task->bpf_storage cleared by map_free) are ordered by a control
 * dependency in the kernel's memory model; ThreadSanitizer knows only
 * acquire/release, and without this reports that pair as a race. */
#define RCU_INIT_POINTER(p, v) smp_store_release(&(p), (__typeof__(p))(v))
static inline void hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h) {
  struct hlist_node *first = h->first;
  rf_hlist_check_add(n, h);
  n->next = first;
  WRITE_ONCE(n->pprev, &h->first);
  rcu_assign_pointer(hlist_first_rcu(h), n);
  if (first) rf_hlist_store_first_pprev(first, h, n);
}
#define hlist_for_each_entry_safe(pos, n, head, member)                         \
  for (pos = hlist_entry_safe((head)->first, __typeof__(*(pos)), member);       \
       pos && ({ n = pos->member.next; 1; });                                   \
       pos = hlist_entry_safe(n, __typeof__(*(pos)), member))
#define hlist_for_each_entry(pos, head, member)                                 \
  for (pos = hlist_entry_safe((head)->first, __typeof__(*(pos)), member); pos;  \
       pos = hlist_entry_safe((pos)->member.next, __typeof__(*(pos)), member))

/* ---- RCU (rcupdate.h, rcupdate_trace.h, rcupdate_wait.h) ----------------
 * rcu_dereference*() record, for the generic reclamation oracle, which
 * reader obtained which object (engine/linux/README.md). */
struct rcu_head { struct rcu_head *next; void (*func)(struct rcu_head *head); };
typedef void (*rcu_callback_t)(struct rcu_head *head);
#define rcu_read_lock() rf_rcu_read_lock()
#define rcu_read_unlock() rf_rcu_read_unlock()
#define rcu_read_lock_trace() rf_rcu_read_lock_trace()
#define rcu_read_unlock_trace() rf_rcu_read_unlock_trace()
#define rcu_read_lock_held() rf_rcu_read_lock_held()
#define rcu_read_lock_trace_held() rf_rcu_read_lock_trace_held()
#define rcu_read_lock_bh_held() 0
#define bpf_rcu_lock_held() rf_bpf_rcu_lock_held()
#define rcu_dereference_raw(p) ((__typeof__(p))rf_rcu_deref((void *)smp_load_acquire(&(p)), "rcu_dereference(" #p ")"))
#define rcu_dereference(p) rcu_dereference_raw(p)
#define rcu_dereference_check(p, c) rcu_dereference_raw(p)
#define rcu_dereference_protected(p, c) READ_ONCE(p)
#define rcu_access_pointer(p) READ_ONCE(p)
#define hlist_for_each_entry_rcu(pos, head, member, ...)                                   \
  for (pos = hlist_entry_safe(rcu_dereference_raw(hlist_first_rcu(head)),                   \
                              __typeof__(*(pos)), member);                                  \
       pos; pos = hlist_entry_safe(rcu_dereference_raw(hlist_next_rcu(&(pos)->member)),     \
                                   __typeof__(*(pos)), member))
#define call_rcu(head, fn) rf_call_rcu((head), (fn))
#define call_rcu_tasks_trace(head, fn) rf_call_rcu_tasks_trace((head), (fn))
#define synchronize_rcu() rf_synchronize_rcu()
#define synchronize_rcu_tasks_trace() rf_synchronize_rcu_tasks_trace()
#define rcu_barrier() rf_rcu_barrier()
#define rcu_barrier_tasks_trace() rf_rcu_barrier_tasks_trace()
#define rcu_trace_implies_rcu_gp() rf_rcu_trace_implies_rcu_gp()
#define kfree_rcu(ptr, rhf) rf_kfree_rcu((void *)(ptr), &(ptr)->rhf)
#define cond_resched_rcu() do { rcu_read_unlock(); cond_resched(); rcu_read_lock(); } while (0)

/* ---- locks (spinlock.h) ----------------------------------------------------
 * The lock word is the machine's (engine/kernel/spinlock.h); all-zero is an
 * unlocked lock, so static initializers need no hook. */
typedef struct raw_spinlock { unsigned long rf_word[4]; } raw_spinlock_t;
typedef struct spinlock { unsigned long rf_word[4]; } spinlock_t;
#define __RAW_SPIN_LOCK_UNLOCKED(name) { { 0 } }
#define __SPIN_LOCK_UNLOCKED(name) { { 0 } }
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define raw_spin_lock_init(l) rf_raw_spin_lock_init((l), #l)
#define spin_lock_init(l) rf_spin_lock_init((l), #l)
#define raw_spin_lock_irqsave(l, f) ((f) = rf_raw_spin_lock_irqsave((l)))
#define raw_spin_unlock_irqrestore(l, f) rf_raw_spin_unlock_irqrestore((l), (f))
#define raw_spin_lock_bh(l) rf_raw_spin_lock_bh((l))
#define raw_spin_unlock_bh(l) rf_raw_spin_unlock_bh((l))
#define raw_spin_lock(l) rf_raw_spin_lock((l))
#define raw_spin_unlock(l) rf_raw_spin_unlock((l))
#define spin_lock(l) rf_spin_lock((l))
#define spin_unlock(l) rf_spin_unlock((l))
#define spin_lock_bh(l) rf_spin_lock((l))
#define spin_unlock_bh(l) rf_spin_unlock((l))

/* ---- lock-less lists (linux/llist.h) --------------------------------------
 * struct llist_node is in rf_hooks.h (the machine's irq_work uses it too).
 * As the kernel's: llist_add() is a cmpxchg loop and llist_del_all() one
 * xchg, so producers in task, hardirq and NMI context on one CPU and a
 * consumer taking the whole list need no lock; each marked access is a
 * preemption point. */
struct llist_head { struct llist_node *first; };
#define LLIST_HEAD_INIT(name) { NULL }
#define LLIST_HEAD(name) struct llist_head name = LLIST_HEAD_INIT(name)
static inline void init_llist_head(struct llist_head *list) { WRITE_ONCE(list->first, NULL); }
static inline void init_llist_node(struct llist_node *node) { node->next = node; }
#define llist_entry(ptr, type, member) container_of(ptr, type, member)
#define rf_llist_entry_safe(ptr, type, member) \
  ({ __typeof__(ptr) rf_p_ = (ptr); rf_p_ ? llist_entry(rf_p_, type, member) : NULL; })
static inline bool llist_empty(const struct llist_head *head) { return READ_ONCE(head->first) == NULL; }
static inline bool llist_add_batch(struct llist_node *new_first, struct llist_node *new_last,
                                   struct llist_head *head) {
  struct llist_node *first = READ_ONCE(head->first);
  for (;;) {
    struct llist_node *seen;
    WRITE_ONCE(new_last->next, first);
    seen = cmpxchg(&head->first, first, new_first);
    if (seen == first) return first == NULL;
    first = seen;
  }
}
static inline bool llist_add(struct llist_node *new_node, struct llist_head *head) {
  return llist_add_batch(new_node, new_node, head);
}
static inline struct llist_node *llist_del_all(struct llist_head *head) { return xchg(&head->first, NULL); }
#define llist_for_each_safe(pos, n, node) \
  for ((pos) = (node); (pos) && ({ (n) = (pos)->next; 1; }); (pos) = (n))
#define llist_for_each_entry_safe(pos, n, node, member)                                  \
  for (pos = rf_llist_entry_safe((node), __typeof__(*(pos)), member);                    \
       pos && ({ n = rf_llist_entry_safe(pos->member.next, __typeof__(*(pos)), member); 1; }); \
       pos = n)

/* ---- irq_work (linux/irq_work.h): engine/kernel/irq_work.h ---------------
 * irq_work_queue() is NMI-safe; the function runs in hardirq context on the
 * queueing vCPU at its next point with IRQs on. struct irq_work is in
 * rf_hooks.h; an all-zero one with .func set is a valid initializer. */
#define IRQ_WORK_INIT(_func) { .func = (_func) }
#define DEFINE_IRQ_WORK(name, _func) struct irq_work name = IRQ_WORK_INIT(_func)
static inline void init_irq_work(struct irq_work *work, void (*func)(struct irq_work *)) {
  work->llnode.next = NULL;
  work->rf_pending = 0;
  work->func = func;
}
#define irq_work_queue(work) rf_irq_work_queue((work))

/* ---- workqueues (linux/workqueue.h): engine/kernel/workqueue.h -----------
 * One kworker per vCPU runs the items queued on it, in process context.
 * queue_work_on() is callable from task, softirq and hardirq context, not
 * from NMI (a context-violation). struct work_struct is in rf_hooks.h. */
typedef void (*work_func_t)(struct work_struct *work);
static inline void rf_init_work(struct work_struct *work, work_func_t func) {
  work->func = func;
  work->rf_next = NULL;
  work->rf_pending = false;
}
#define INIT_WORK(work, func) rf_init_work((work), (func))
#define system_wq rf_system_wq()
#define queue_work_on(cpu, wq, work) rf_queue_work_on((cpu), (wq), (work))
#define queue_work(wq, work) rf_queue_work_on(rf_cpu(), (wq), (work))

/* ---- initcalls (linux/init.h) ----------------------------------------------
 * A tree's initcalls go to the section rf_initcall; the runtime runs them at
 * the start of every execution, once the tree's globals and per-CPU data are
 * restored (engine/linux/runtime.cc), as the kernel runs them at boot. One
 * level: a tree's initcalls run in the order they appear. */
typedef int (*rf_initcall_t)(void);
#define rf_define_initcall(fn) \
  static const rf_initcall_t rf_initcall_##fn __attribute__((section("rf_initcall"), used)) = fn
#define core_initcall(fn) rf_define_initcall(fn)
#define subsys_initcall(fn) rf_define_initcall(fn)
#define device_initcall(fn) rf_define_initcall(fn)
#define late_initcall(fn) rf_define_initcall(fn)

/* ---- allocators (slab.h, vmalloc.h) ------------------------------------- */
#define GFP_ATOMIC RF_GFP_ATOMIC
#define GFP_KERNEL RF_GFP_KERNEL
#define GFP_NOWAIT RF_GFP_NOWAIT
#define GFP_USER RF_GFP_KERNEL
#define __GFP_ZERO RF_GFP_ZERO
#define __GFP_NOWARN RF_GFP_NOWARN
#define __GFP_ACCOUNT 0u
#define KMALLOC_MAX_SIZE (1UL << 22)
#define kmalloc(size, flags) rf_kmalloc((size), (flags), __func__)
#define kzalloc(size, flags) rf_kmalloc((size), (flags) | __GFP_ZERO, __func__)
#define kfree(p) rf_kfree((p), __func__)
#define kvfree(p) rf_kfree((p), __func__)
#define kmalloc_nolock(size, flags, node) rf_kmalloc_nolock((size), (flags), __func__)
#define kfree_nolock(p) rf_kfree_nolock((p), __func__)

/* ---- tasks and pids (sched.h, pid.h) -------------------------------------
 * The fields of struct task_struct that the storage code touches; the
 * harness owns its lifetime (engine/linux/harness.cc). */
struct bpf_local_storage;
struct task_struct {
  refcount_t usage;
  struct bpf_local_storage __rcu *bpf_storage;
  struct rcu_head rcu;
  int rf_index; /* the program's owner index (its pidfd) */
};
struct pid { int rf_index; };
enum pid_type { PIDTYPE_PID };
struct pid *pidfd_get_pid(unsigned int fd, unsigned int *flags);
struct task_struct *pid_task(struct pid *pid, enum pid_type type);
#define put_pid(pid) ((void)(pid))

#endif /* RF_SHIM_H */
