// SPDX-License-Identifier: MIT
// always-defer-fixed: the same idea as always-defer-v1 done right:
// per-CPU llists (cmpxchg push, xchg pop-all: safe against same-CPU
// interrupts), each item keeps its reuse_now, and the path out of the
// caller is irq_work_queue() (NMI-safe) -> irq_work -> queue_work_on() ->
// work fn -> bpf_selem_free(reuse_now). map_free flushes these frees
// before its barriers. Tasks Trace with SRCU's irq_work fix.
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

struct bpf_deferred_free_work {
  kernel::work_struct work;
  int cpu;
};

DEFINE_PER_CPU(bpf_deferred_free_work, bpf_deferred_free_work_percpu);
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
  kernel::queue_work_on(cpu, kernel::system_wq, &per_cpu_ptr(&bpf_deferred_free_work_percpu, cpu)->work);
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
void bpf_local_storage_defer_free_fixed(hlist_head* selem_free_list, bpf_local_storage* local_storage,
                                        bool free_local_storage, bool reuse_now) {
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

void free_unlinked(hlist_head* selem_free_list, bpf_local_storage* local_storage, bool free_local_storage,
                   bool reuse_now, FreeSite) {
  bpf_local_storage_defer_free_fixed(selem_free_list, local_storage, free_local_storage, reuse_now);
}

void selem_free(bpf_local_storage_elem* selem, bool reuse_now) {
  bpf_selem_defer_free_llist(selem, reuse_now);
  kernel::irq_work_queue(this_cpu_ptr(&bpf_deferred_free_irq_work));
}

void storage_free(bpf_local_storage* local_storage, bool reuse_now) {
  bpf_local_storage_defer_free_llist(local_storage, reuse_now);
  kernel::irq_work_queue(this_cpu_ptr(&bpf_deferred_free_irq_work));
}

void deferred_flush() {
  kernel::might_sleep("bpf_local_storage_deferred_flush()");
  // MODEL: flush_work() on every CPU's bpf_deferred_free_work; the model
  // waits for the in-flight count instead, which covers the irq_work hop.
  sched::Scheduler* s = sched::Scheduler::Current();
  if (s != nullptr && s->current_task() >= 0) {
    s->WaitFor(&deferred_frees_flushed, nullptr, "flush deferred local-storage frees");
  }
}

void reset() {
  for (int c = 0; c < sched::kMaxVcpus; ++c) {
    per_cpu_ptr(&bpf_deferred_selem_llist, c)->first = nullptr;
    per_cpu_ptr(&bpf_deferred_storage_llist, c)->first = nullptr;
    kernel::init_irq_work(per_cpu_ptr(&bpf_deferred_free_irq_work, c), &bpf_deferred_free_irq_work_fn);
    bpf_deferred_free_work* w = per_cpu_ptr(&bpf_deferred_free_work_percpu, c);
    kernel::INIT_WORK(&w->work, &bpf_deferred_free_llist_work_fn);
    w->cpu = c;
  }
  bpf_deferred_free_inflight.counter = 0;
}

int num_deferred(int cpu) {
  int n = 0;
  for (llist_node* p = per_cpu_ptr(&bpf_deferred_selem_llist, cpu)->first; p != nullptr; p = p->next) ++n;
  for (llist_node* p = per_cpu_ptr(&bpf_deferred_storage_llist, cpu)->first; p != nullptr; p = p->next) ++n;
  return n;
}

}  // namespace

// Shared with the variants that build on this one.
extern const LocalStorageFreeOps kAlwaysDeferFixedOps;
const LocalStorageFreeOps kAlwaysDeferFixedOps = {
    .free_unlinked = &free_unlinked,
    .selem_free = &selem_free,
    .storage_free = &storage_free,
    .deferred_flush = &deferred_flush,
    .reset = &reset,
    .num_deferred = &num_deferred,
};

extern const ModelVariant kModel_always_defer_fixed;
const ModelVariant kModel_always_defer_fixed = {
    .free_ops = &kAlwaysDeferFixedOps,
    .trace_gp_start = rcu::Settings::TraceGpStart::kSrcuRawIrqWork,
};

}  // namespace reclaimfuzz::storage
