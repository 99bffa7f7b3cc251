/* SPDX-License-Identifier: MIT */
/* The hooks through which the shim (rf_shim.h) reaches the virtual machine.
 * Implemented in C++ by engine/linux/runtime.cc and engine/linux/mem_alloc.cc;
 * plain C types only, so both languages include this file. */
#ifndef RF_HOOKS_H
#define RF_HOOKS_H

#ifdef __cplusplus
extern "C" {
#define RF_BOOL bool
#else
#define RF_BOOL _Bool
#endif

/* Preemption-point kinds, as engine/sched/choice.h's PointKind. */
enum { RF_POINT_ACCESS = 0, RF_POINT_ATOMIC = 1, RF_POINT_LOCK = 2, RF_POINT_SPIN = 3 };

/* gfp_t bits, as engine/kernel/slab.h's. */
#define RF_GFP_ATOMIC (1u << 0)
#define RF_GFP_KERNEL (1u << 1)
#define RF_GFP_NOWAIT (1u << 2)
#define RF_GFP_ZERO (1u << 3)
#define RF_GFP_NOWARN (1u << 4)

struct rcu_head;
struct raw_spinlock;
struct spinlock;

/* Objects the machine itself queues and walks (engine/kernel/llist.h,
 * irq_work.h, workqueue.h), so their layout is the machine's: runtime.cc
 * checks it against the C++ definitions. rf_shim.h gives them their kernel
 * API; kernel code touches only the fields without the rf_ prefix. */
struct llist_node { struct llist_node *next; };
struct irq_work {
  struct llist_node llnode;
  int rf_pending;
  void (*func)(struct irq_work *work);
};
struct work_struct {
  void (*func)(struct work_struct *work);
  struct work_struct *rf_next;
  RF_BOOL rf_pending;
};
struct workqueue_struct;

/* A preemption point; `func` is the function the point is written in (the
 * shim's macros pass __func__ of the code that expands them), which
 * timelines show. */
void rf_point_in(int kind, const char *label, const char *func);
#define rf_point(kind, label) rf_point_in((kind), (label), __func__)
void rf_cond_resched(void);
void rf_might_sleep(const char *what);
void rf_warn(const char *cond, const char *file, int line);
void rf_bug(const char *cond, const char *file, int line) __attribute__((noreturn));
void rf_list_corruption(const char *what, const void *node) __attribute__((noreturn));
/* An add's store into the old first node's pprev, checked at the store:
 * `first` (whose pprev field is at `first_pprev`) must still be on the list
 * whose head's first field is at `head_first` (engine/kernel/list.h,
 * hlist_add_check_first()). */
/* Before a list check or update reads through p: use-after-free if p lies
 * in an object this execution freed (engine/kernel/list.h,
 * node_check_live()). */
void rf_list_check_live(const void *p, const char *what);
void rf_hlist_check_add_first(const void *first, void *const *first_pprev, const void *head_first);

int rf_cpu(void);
int rf_nr_cpus(void);
void rf_preempt_disable(void);
void rf_preempt_enable(void);
void rf_migrate_disable(void);
void rf_migrate_enable(void);
unsigned long rf_local_irq_save(void);
void rf_local_irq_restore(unsigned long flags);
RF_BOOL rf_in_nmi(void);
RF_BOOL rf_in_hardirq(void);
RF_BOOL rf_in_task(void);
RF_BOOL rf_irqs_disabled(void);

void *rf_per_cpu_ptr(const void *p, int cpu);
unsigned long long rf_stable_address(const void *p);

void rf_rcu_read_lock(void);
void rf_rcu_read_unlock(void);
void rf_rcu_read_lock_trace(void);
void rf_rcu_read_unlock_trace(void);
RF_BOOL rf_rcu_read_lock_held(void);
RF_BOOL rf_rcu_read_lock_trace_held(void);
RF_BOOL rf_bpf_rcu_lock_held(void);
/* Returns p; records that the running reader obtained the object holding p. */
void *rf_rcu_deref(void *p, const char *what);
void rf_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *));
void rf_call_rcu_tasks_trace(struct rcu_head *head, void (*fn)(struct rcu_head *));
void rf_synchronize_rcu(void);
void rf_synchronize_rcu_tasks_trace(void);
void rf_rcu_barrier(void);
void rf_rcu_barrier_tasks_trace(void);
RF_BOOL rf_rcu_trace_implies_rcu_gp(void);
void rf_kfree_rcu(void *obj, struct rcu_head *head);

/* irq_work and workqueues (engine/kernel/irq_work.h, workqueue.h). */
RF_BOOL rf_irq_work_queue(struct irq_work *work);
struct workqueue_struct *rf_system_wq(void);
RF_BOOL rf_queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work);

void rf_raw_spin_lock_init(struct raw_spinlock *l, const char *name);
void rf_spin_lock_init(struct spinlock *l, const char *name);
unsigned long rf_raw_spin_lock_irqsave(struct raw_spinlock *l);
void rf_raw_spin_unlock_irqrestore(struct raw_spinlock *l, unsigned long flags);
void rf_raw_spin_lock(struct raw_spinlock *l);
void rf_raw_spin_unlock(struct raw_spinlock *l);
void rf_raw_spin_lock_bh(struct raw_spinlock *l);
void rf_raw_spin_unlock_bh(struct raw_spinlock *l);
void rf_spin_lock(struct spinlock *l);
void rf_spin_unlock(struct spinlock *l);

struct rqspinlock;
void rf_res_spin_lock_init(struct rqspinlock *l, const char *name);
int rf_res_spin_lock_irqsave(struct rqspinlock *l, unsigned long *flags);
void rf_res_spin_unlock_irqrestore(struct rqspinlock *l, unsigned long flags);
int rf_res_spin_lock(struct rqspinlock *l);
void rf_res_spin_unlock(struct rqspinlock *l);

/* Allocations: `site` is the calling kernel function (reports). */
void *rf_kmalloc(unsigned long size, unsigned int gfp, const char *site);
void rf_kfree(const void *p, const char *site);
void *rf_kmalloc_nolock(unsigned long size, unsigned int gfp, const char *site);
void rf_kfree_nolock(const void *p, const char *site);

/* bpf_mem_alloc (engine/linux/mem_alloc.cc): the cache of one allocator. */
struct rf_mem_alloc;
struct rf_mem_alloc *rf_mem_alloc_init(unsigned int size, const char *type);
void rf_mem_alloc_destroy(struct rf_mem_alloc *ma);
void *rf_mem_cache_alloc(struct rf_mem_alloc *ma, unsigned int gfp);
void rf_mem_cache_free(struct rf_mem_alloc *ma, void *p);
void rf_mem_cache_raw_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* RF_HOOKS_H */
