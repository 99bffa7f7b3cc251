// SPDX-License-Identifier: MIT
#include "engine/storage/defer.h"

#include "engine/kernel/context.h"
#include "engine/kernel/irq_work.h"
#include "engine/kernel/percpu.h"
#include "engine/kernel/workqueue.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/variant.h"

namespace reclaimfuzz::storage {
namespace {

using kernel::per_cpu_ptr;
using kernel::PerCpu;
using kernel::this_cpu_ptr;

// How the running variant frees: always-defer-fixed+map-free-fix defers as
// always-defer-fixed does (its difference is map_free's, in
// bpf_local_storage_map.cc).
Variant defer_variant() {
  const Variant v = current_variant();
  return v == Variant::kAlwaysDeferFixedMapFreeFix ? Variant::kAlwaysDeferFixed : v;
}

// ============================================================================
// v4, v4-srcu-fix: free now, in the caller's context.
// ============================================================================

void free_now(hlist_head* selem_free_list, bpf_local_storage* local_storage,
              bool free_local_storage, bool reuse_now) {
  bpf_selem_free_list(selem_free_list, reuse_now);
  if (free_local_storage) bpf_local_storage_free(local_storage, reuse_now);
}

// ============================================================================
// always-defer-v1: the patch as posted.
// ============================================================================

struct bpf_deferred_free_rcu {
  rcu_head rcu;
  int cpu;
};

struct bpf_deferred_free_work {
  kernel::work_struct work;
  int cpu;
};

DEFINE_PER_CPU(hlist_head, bpf_deferred_selem_free_list);
DEFINE_PER_CPU(hlist_head, bpf_deferred_storage_free_list);
DEFINE_PER_CPU(bpf_deferred_free_rcu, bpf_deferred_free_rcu_percpu);
DEFINE_PER_CPU(atomic_t, bpf_deferred_free_pending);
// Shared by both deferring variants (each execution runs one variant).
DEFINE_PER_CPU(bpf_deferred_free_work, bpf_deferred_free_work_percpu);

// Process context (the kworker of `cpu`), IRQs on: an interrupt program on
// this CPU may push onto the lists while this walks them (the review's
// point 1b, docs/always-defer-review.md).
void bpf_deferred_free_work_fn(kernel::work_struct* work) {
  bpf_deferred_free_work* deferred_work = container_of(work, bpf_deferred_free_work, work);
  const int cpu = deferred_work->cpu;
  hlist_head* selem_list = per_cpu_ptr(&bpf_deferred_selem_free_list, cpu);
  hlist_head* storage_list = per_cpu_ptr(&bpf_deferred_storage_free_list, cpu);
  bpf_local_storage_elem* selem;
  bpf_local_storage* local_storage;
  hlist_node* n;

  kernel::atomic_set(per_cpu_ptr(&bpf_deferred_free_pending, cpu), 0);

  hlist_for_each_entry_safe(selem, n, selem_list, bpf_local_storage_elem, free_node) {
    kernel::hlist_del_init(&selem->free_node);
    bpf_selem_free(selem, true);  // reuse_now=true: regular RCU only (B2)
  }

  hlist_for_each_entry_safe(local_storage, n, storage_list, bpf_local_storage, deferred_free_node) {
    kernel::hlist_del_init(&local_storage->deferred_free_node);
    bpf_local_storage_free(local_storage, true);
  }
}

void bpf_deferred_free_rcu_callback(rcu_head* rcu) {
  bpf_deferred_free_rcu* deferred_rcu = container_of(rcu, bpf_deferred_free_rcu, rcu);
  const int cpu = deferred_rcu->cpu;
  kernel::queue_work_on(cpu, kernel::system_wq,
                        &per_cpu_ptr(&bpf_deferred_free_work_percpu, cpu)->work);
}

// Called after raw_res_spin_unlock_irqrestore(): IRQs are on; the program
// context only has migrate_disable(). hlist_add_head() is several plain
// stores: a same-CPU hardirq or NMI program that pushes in between loses an
// entry or corrupts the list (B1).
void bpf_selem_unlink_defer_free(hlist_head* selem_free_list, bpf_local_storage* local_storage,
                                 bool free_local_storage) {
  bpf_local_storage_elem* s;
  hlist_node* n;
  hlist_head* deferred_selem = this_cpu_ptr(&bpf_deferred_selem_free_list);
  hlist_head* deferred_storage = this_cpu_ptr(&bpf_deferred_storage_free_list);
  bpf_deferred_free_rcu* deferred_rcu = this_cpu_ptr(&bpf_deferred_free_rcu_percpu);

  hlist_for_each_entry_safe(s, n, selem_free_list, bpf_local_storage_elem, free_node) {
    kernel::hlist_del(&s->free_node);
    kernel::hlist_add_head(&s->free_node, deferred_selem);
  }

  if (free_local_storage) {
    kernel::hlist_add_head(&local_storage->deferred_free_node, deferred_storage);
  }

  if (kernel::atomic_cmpxchg(this_cpu_ptr(&bpf_deferred_free_pending), 0, 1) == 0) {
    deferred_rcu->cpu = kernel::smp_processor_id();
    kernel::call_rcu(&deferred_rcu->rcu, bpf_deferred_free_rcu_callback);  // not NMI-safe
  }
}

// ============================================================================
// always-defer-fixed: llists, per-item reuse_now, irq_work out of NMI.
// ============================================================================

DEFINE_PER_CPU(kernel::llist_head, bpf_deferred_selem_llist);
DEFINE_PER_CPU(kernel::llist_head, bpf_deferred_storage_llist);
DEFINE_PER_CPU(kernel::irq_work, bpf_deferred_free_irq_work);
// Objects pushed and not yet handed to bpf_*_free(): what map_free flushes.
atomic_t bpf_deferred_free_inflight;

// Process context (the kworker of `cpu`). llist_del_all() is one xchg, safe
// against same-CPU pushes from any context.
void bpf_deferred_free_llist_work_fn(kernel::work_struct* work) {
  bpf_deferred_free_work* deferred_work = container_of(work, bpf_deferred_free_work, work);
  const int cpu = deferred_work->cpu;
  llist_node* pos = kernel::llist_del_all(per_cpu_ptr(&bpf_deferred_selem_llist, cpu));
  while (pos != nullptr) {
    llist_node* next = READ_ONCE(pos->next);  // before bpf_selem_free() reuses the union
    bpf_local_storage_elem* selem = llist_entry(pos, bpf_local_storage_elem, llnode);
    bpf_selem_free(selem, selem->defer_reuse_now);
    kernel::atomic_dec(&bpf_deferred_free_inflight);
    pos = next;
  }
  pos = kernel::llist_del_all(per_cpu_ptr(&bpf_deferred_storage_llist, cpu));
  while (pos != nullptr) {
    llist_node* next = READ_ONCE(pos->next);
    bpf_local_storage* local_storage = llist_entry(pos, bpf_local_storage, deferred_llnode);
    bpf_local_storage_free(local_storage, local_storage->defer_reuse_now);
    kernel::atomic_dec(&bpf_deferred_free_inflight);
    pos = next;
  }
}

// Hardirq context on the CPU that queued it: queue_work_on() is legal here,
// and nothing NMI-unsafe ran in the caller.
void bpf_deferred_free_irq_work_fn(kernel::irq_work*) {
  const int cpu = kernel::smp_processor_id();
  kernel::queue_work_on(cpu, kernel::system_wq,
                        &per_cpu_ptr(&bpf_deferred_free_work_percpu, cpu)->work);
}

void bpf_selem_defer_free_llist(bpf_local_storage_elem* selem, bool reuse_now) {
  selem->defer_reuse_now = reuse_now;
  kernel::atomic_inc(&bpf_deferred_free_inflight);
  kernel::llist_add(&selem->llnode, this_cpu_ptr(&bpf_deferred_selem_llist));
}

void bpf_local_storage_defer_free_llist(bpf_local_storage* local_storage, bool reuse_now) {
  local_storage->defer_reuse_now = reuse_now;
  kernel::atomic_inc(&bpf_deferred_free_inflight);
  kernel::llist_add(&local_storage->deferred_llnode, this_cpu_ptr(&bpf_deferred_storage_llist));
}

// Any context, NMI included: only atomics, llist_add() and irq_work_queue().
void bpf_local_storage_defer_free_fixed(hlist_head* selem_free_list,
                                        bpf_local_storage* local_storage, bool free_local_storage,
                                        bool reuse_now) {
  bpf_local_storage_elem* s;
  hlist_node* n;
  // The local list is private to this context; free_node and llnode share
  // the union, so take each selem off it before pushing.
  hlist_for_each_entry_safe(s, n, selem_free_list, bpf_local_storage_elem, free_node) {
    kernel::hlist_del(&s->free_node);
    bpf_selem_defer_free_llist(s, reuse_now);
  }
  if (free_local_storage) bpf_local_storage_defer_free_llist(local_storage, reuse_now);
  kernel::irq_work_queue(this_cpu_ptr(&bpf_deferred_free_irq_work));
}

bool deferred_frees_flushed(void*) {
  return __atomic_load_n(&bpf_deferred_free_inflight.counter, __ATOMIC_ACQUIRE) == 0;
}

}  // namespace

void bpf_local_storage_free_unlinked(hlist_head* selem_free_list, bpf_local_storage* local_storage,
                                     bool free_local_storage, bool reuse_now, FreeSite site) {
  switch (defer_variant()) {
    case Variant::kAlwaysDeferV1:
      // The posted patch changes bpf_selem_unlink(), the call site the
      // review quotes; reuse_now is dropped there. Other paths are V4's.
      // MODEL: called unconditionally, as were the two frees it replaces
      // (so even a delete that unlinked nothing arms the pending flag).
      if (site == FreeSite::kUnlink) {
        bpf_selem_unlink_defer_free(selem_free_list, local_storage, free_local_storage);
      } else {
        free_now(selem_free_list, local_storage, free_local_storage, reuse_now);
      }
      return;
    case Variant::kAlwaysDeferFixed:
      bpf_local_storage_defer_free_fixed(selem_free_list, local_storage, free_local_storage,
                                         reuse_now);
      return;
    default:  // v4, v4-srcu-fix (real trees never run the model's code)
      free_now(selem_free_list, local_storage, free_local_storage, reuse_now);
      return;
  }
}

void bpf_selem_free_helper(bpf_local_storage_elem* selem, bool reuse_now) {
  if (defer_variant() == Variant::kAlwaysDeferFixed) {
    bpf_selem_defer_free_llist(selem, reuse_now);
    kernel::irq_work_queue(this_cpu_ptr(&bpf_deferred_free_irq_work));
    return;
  }
  bpf_selem_free(selem, reuse_now);
}

void bpf_local_storage_free_helper(bpf_local_storage* local_storage, bool reuse_now) {
  if (local_storage == nullptr) return;
  if (defer_variant() == Variant::kAlwaysDeferFixed) {
    bpf_local_storage_defer_free_llist(local_storage, reuse_now);
    kernel::irq_work_queue(this_cpu_ptr(&bpf_deferred_free_irq_work));
    return;
  }
  bpf_local_storage_free(local_storage, reuse_now);
}

void bpf_local_storage_deferred_flush() {
  if (defer_variant() != Variant::kAlwaysDeferFixed) return;
  kernel::might_sleep("bpf_local_storage_deferred_flush()");
  // MODEL: flush_work() on every CPU's bpf_deferred_free_work; the model
  // waits for the in-flight count instead, which covers the irq_work hop.
  sched::Scheduler* s = sched::Scheduler::Current();
  if (s != nullptr && s->current_task() >= 0) {
    s->WaitFor(&deferred_frees_flushed, nullptr, "flush deferred local-storage frees");
  }
}

namespace defer {

void Reset() {
  for (int c = 0; c < sched::kMaxVcpus; ++c) {
    per_cpu_ptr(&bpf_deferred_selem_free_list, c)->first = nullptr;
    per_cpu_ptr(&bpf_deferred_storage_free_list, c)->first = nullptr;
    *per_cpu_ptr(&bpf_deferred_free_rcu_percpu, c) = bpf_deferred_free_rcu{};
    per_cpu_ptr(&bpf_deferred_free_pending, c)->counter = 0;
    per_cpu_ptr(&bpf_deferred_selem_llist, c)->first = nullptr;
    per_cpu_ptr(&bpf_deferred_storage_llist, c)->first = nullptr;
    kernel::init_irq_work(per_cpu_ptr(&bpf_deferred_free_irq_work, c),
                          &bpf_deferred_free_irq_work_fn);
    bpf_deferred_free_work* w = per_cpu_ptr(&bpf_deferred_free_work_percpu, c);
    kernel::INIT_WORK(&w->work, defer_variant() == Variant::kAlwaysDeferFixed
                                    ? &bpf_deferred_free_llist_work_fn
                                    : &bpf_deferred_free_work_fn);
    w->cpu = c;
  }
  bpf_deferred_free_inflight.counter = 0;
}

int NumDeferred(int cpu) {
  int n = 0;
  for (hlist_node* p = per_cpu_ptr(&bpf_deferred_selem_free_list, cpu)->first; p != nullptr;
       p = p->next) {
    ++n;
  }
  for (hlist_node* p = per_cpu_ptr(&bpf_deferred_storage_free_list, cpu)->first; p != nullptr;
       p = p->next) {
    ++n;
  }
  for (llist_node* p = per_cpu_ptr(&bpf_deferred_selem_llist, cpu)->first; p != nullptr;
       p = p->next) {
    ++n;
  }
  for (llist_node* p = per_cpu_ptr(&bpf_deferred_storage_llist, cpu)->first; p != nullptr;
       p = p->next) {
    ++n;
  }
  return n;
}

}  // namespace defer
}  // namespace reclaimfuzz::storage
