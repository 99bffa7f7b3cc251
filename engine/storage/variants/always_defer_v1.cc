// SPDX-License-Identifier: MIT
// always-defer-v1: "bpf: Always defer local storage free" as posted
// (docs/always-defer-review.md): from bpf_selem_unlink() the selems go onto
// the per-CPU hlist bpf_deferred_selem_free_list and the storage onto
// bpf_deferred_storage_free_list with hlist_add_head() after unlock, IRQs
// on (B1); a per-CPU atomic pending flag arms call_rcu(), whose callback
// queue_work_on()s bpf_deferred_free_work_fn, which frees everything with
// reuse_now=true, i.e. behind regular RCU only (B2). Tasks Trace as in v4
// (SRCU before the irq_work fix).
#include "engine/kernel/context.h"
#include "engine/kernel/irq_work.h"
#include "engine/kernel/percpu.h"
#include "engine/kernel/workqueue.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/model_variant.h"

namespace reclaimfuzz::storage {
namespace {

using kernel::per_cpu_ptr;
using kernel::PerCpu;
using kernel::this_cpu_ptr;

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
  kernel::queue_work_on(cpu, kernel::system_wq, &per_cpu_ptr(&bpf_deferred_free_work_percpu, cpu)->work);
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

void free_unlinked(hlist_head* selem_free_list, bpf_local_storage* local_storage, bool free_local_storage,
                   bool reuse_now, FreeSite site) {
  // The posted patch changes bpf_selem_unlink(), the call site the review
  // quotes; reuse_now is dropped there. Other paths are V4's.
  // MODEL: called unconditionally, as were the two frees it replaces (so
  // even a delete that unlinked nothing arms the pending flag).
  if (site == FreeSite::kUnlink) {
    bpf_selem_unlink_defer_free(selem_free_list, local_storage, free_local_storage);
  } else {
    bpf_selem_free_list(selem_free_list, reuse_now);
    if (free_local_storage) bpf_local_storage_free(local_storage, reuse_now);
  }
}

void reset() {
  for (int c = 0; c < sched::kMaxVcpus; ++c) {
    per_cpu_ptr(&bpf_deferred_selem_free_list, c)->first = nullptr;
    per_cpu_ptr(&bpf_deferred_storage_free_list, c)->first = nullptr;
    *per_cpu_ptr(&bpf_deferred_free_rcu_percpu, c) = bpf_deferred_free_rcu{};
    per_cpu_ptr(&bpf_deferred_free_pending, c)->counter = 0;
    bpf_deferred_free_work* w = per_cpu_ptr(&bpf_deferred_free_work_percpu, c);
    kernel::INIT_WORK(&w->work, &bpf_deferred_free_work_fn);
    w->cpu = c;
  }
}

int num_deferred(int cpu) {
  int n = 0;
  for (hlist_node* p = per_cpu_ptr(&bpf_deferred_selem_free_list, cpu)->first; p != nullptr; p = p->next) ++n;
  for (hlist_node* p = per_cpu_ptr(&bpf_deferred_storage_free_list, cpu)->first; p != nullptr; p = p->next) ++n;
  return n;
}

const LocalStorageFreeOps kOps = {
    .free_unlinked = &free_unlinked,
    .selem_free = &bpf_selem_free,
    .storage_free = &bpf_local_storage_free,
    .deferred_flush = nullptr,  // the posted patch has no flush before map_free's barriers
    .reset = &reset,
    .num_deferred = &num_deferred,
};

}  // namespace

extern const ModelVariant kModel_always_defer_v1;
const ModelVariant kModel_always_defer_v1 = {
    .free_ops = &kOps,
    .trace_gp_start = rcu::Settings::TraceGpStart::kSrcuSpinlock,
};

}  // namespace reclaimfuzz::storage
