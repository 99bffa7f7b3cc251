// SPDX-License-Identifier: MIT
// bpf_mem_alloc (kernel/bpf/memalloc.c, v6.1-v6.18), the allocator 6.12's
// task storage uses for elements and storages (smap->bpf_ma), modelled for
// the real-tree engine. What matters to reclamation is kept:
//   - one cache per vCPU per allocator, with a LIFO free list;
//   - bpf_mem_cache_free() pushes the unit on the freeing vCPU's list, to be
//     handed out again at once, with no grace period (the memory is not
//     freed, so its old contents stay readable, as in the kernel);
//   - below the low watermark an allocation queues an irq_work that refills
//     the cache with GFP_NOWAIT allocations, which may fail under memory
//     pressure (a schedule choice when allocation failure is on); an empty
//     cache makes GFP_KERNEL callers allocate directly, and may sleep;
//   - above the high watermark the excess goes back to the slab after an
//     RCU Tasks Trace grace period;
//   - bpf_mem_cache_raw_free() frees to the slab at once;
//   - bpf_mem_alloc_destroy() frees every unit on the free lists to the slab,
//     so a stale pointer into one is a use-after-free from then on.
// MODEL: watermarks are scaled down (prefill 4, low 2, batch 4, high 16
// units, against 4/32/48/96 for small units in the kernel) so that an
// execution's few allocations cross them; unit headers are 64 bytes
// (the kernel's are 8) so that units stay cacheline-aligned.
#include <cstdint>
#include <deque>

#include "engine/kernel/context.h"
#include "engine/kernel/irq_work.h"
#include "engine/kernel/slab.h"
#include "engine/linux/include/rf_hooks.h"
#include "engine/linux/runtime.h"
#include "engine/rcu/rcu.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

struct rf_mem_alloc;

namespace reclaimfuzz::linux_tree {
namespace {

constexpr int kPrefill = 4;
constexpr int kLowWatermark = 2;
constexpr int kBatch = 4;
constexpr int kHighWatermark = 16;
constexpr size_t kHeader = 64;

struct Unit {  // the header in front of each unit
  Unit* next;
  kernel::rcu_head rcu;
};

struct Cache {
  rf_mem_alloc* ma = nullptr;
  int cpu = 0;
  Unit* free_list = nullptr;
  int free_cnt = 0;
  int active = 0;
  kernel::irq_work refill;
  bool refill_fails = false;  // the schedule decided that the next refill fails
  bool draining = false;      // c->draining: bpf_mem_alloc_destroy() started
};

}  // namespace
}  // namespace reclaimfuzz::linux_tree

struct rf_mem_alloc {
  unsigned int unit_size = 0;
  const char* type = "";
  reclaimfuzz::linux_tree::Cache caches[reclaimfuzz::sched::kMaxVcpus];
};

namespace reclaimfuzz::linux_tree {
namespace {

// Allocators live until the next execution: a refill queued before
// bpf_mem_alloc_destroy() may still run (the kernel syncs it instead).
std::deque<rf_mem_alloc>& Pool() {
  static auto* p = new std::deque<rf_mem_alloc>();
  return *p;
}

Unit* NewUnit(rf_mem_alloc* ma, const char* site) {
  void* p = kernel::kzalloc(kHeader + ma->unit_size, kernel::GFP_ATOMIC, ma->type, site);
  return static_cast<Unit*>(p);
}

// A cache is its CPU's: the kernel orders its users by running them with
// IRQs off on that CPU (an NMI backs off through c->active). ThreadSanitizer
// sees each task as a thread of its own, so each section that touches a
// cache tells it so: acquire at the start, release at the end.
struct CacheSection {
  explicit CacheSection(Cache& c) : c_(c) { reclaimfuzz::tsan::Acquire(&c_); }
  ~CacheSection() { reclaimfuzz::tsan::Release(&c_); }
  CacheSection(const CacheSection&) = delete;
  CacheSection& operator=(const CacheSection&) = delete;
  Cache& c_;
};

void Push(Cache& c, Unit* u) {
  u->next = c.free_list;
  c.free_list = u;
  ++c.free_cnt;
}

void FreeUnitRcu(kernel::rcu_head* head) {
  Unit* u = reinterpret_cast<Unit*>(reinterpret_cast<char*>(head) - offsetof(Unit, rcu));
  kernel::kfree(u, "free_all");
}

void Refill(kernel::irq_work* w) {
  Cache& c = *reinterpret_cast<Cache*>(reinterpret_cast<char*>(w) - offsetof(Cache, refill));
  CacheSection section(c);
  if (c.draining) return;
  const bool fails = c.refill_fails;
  c.refill_fails = false;
  if (fails) return;  // alloc_bulk(GFP_NOWAIT) got nothing
  for (int i = 0; i < kBatch; ++i) {
    Unit* u = NewUnit(c.ma, "alloc_bulk");
    if (u == nullptr) return;
    Push(c, u);
  }
}

void FreeBulk(Cache& c) {
  CacheSection section(c);
  while (c.free_cnt > kHighWatermark) {
    Unit* u = c.free_list;
    c.free_list = u->next;
    --c.free_cnt;
    kernel::call_rcu_tasks_trace(&u->rcu, &FreeUnitRcu);
  }
}

}  // namespace

void ResetMemAlloc() { Pool().clear(); }

}  // namespace reclaimfuzz::linux_tree

using reclaimfuzz::linux_tree::Cache;
using reclaimfuzz::linux_tree::kHeader;
using reclaimfuzz::linux_tree::Unit;
namespace kernel = reclaimfuzz::kernel;

extern "C" {

struct rf_mem_alloc* rf_mem_alloc_init(unsigned int size, const char* type) {
  kernel::might_sleep("bpf_mem_alloc_init");
  auto& pool = reclaimfuzz::linux_tree::Pool();
  rf_mem_alloc& ma = pool.emplace_back();
  ma.unit_size = size;
  ma.type = type;
  for (int cpu = 0; cpu < reclaimfuzz::sched::kMaxVcpus; ++cpu) {
    Cache& c = ma.caches[cpu];
    c.ma = &ma;
    c.cpu = cpu;
    kernel::init_irq_work(&c.refill, &reclaimfuzz::linux_tree::Refill);
  }
  const int ncpu = rf_nr_cpus();
  for (int cpu = 0; cpu < ncpu; ++cpu) {
    for (int i = 0; i < reclaimfuzz::linux_tree::kPrefill; ++i) {
      Unit* u = reclaimfuzz::linux_tree::NewUnit(&ma, "prefill_mem_cache");
      if (u == nullptr) break;
      reclaimfuzz::linux_tree::Push(ma.caches[cpu], u);
    }
  }
  return &ma;
}

void rf_mem_alloc_destroy(struct rf_mem_alloc* ma) {
  if (ma == nullptr) return;
  for (Cache& c : ma->caches) {
    // As the kernel's: WRITE_ONCE(c->draining, true), then irq_work_sync()
    // of the refill; here a refill that runs later sees the flag, in the
    // cache's section, and does nothing.
    reclaimfuzz::linux_tree::CacheSection section(c);
    c.draining = true;
    while (Unit* u = c.free_list) {
      c.free_list = u->next;
      kernel::kfree(u, "drain_mem_cache");
    }
    c.free_cnt = 0;
  }
}

void* rf_mem_cache_alloc(struct rf_mem_alloc* ma, unsigned int gfp) {
  const int cpu = kernel::smp_processor_id();
  Cache& c = ma->caches[cpu];
  Unit* u = nullptr;
  // unit_alloc(): IRQs off; c->active keeps a same-CPU NMI off the list.
  const kernel::irqflags_t flags = kernel::local_irq_save_impl();
  kernel::preemption_point(reclaimfuzz::sched::PointKind::kAccess, "unit_alloc");
  bool low;
  {
    reclaimfuzz::linux_tree::CacheSection section(c);
    if (c.active++ == 0 && c.free_list != nullptr) {
      u = c.free_list;
      c.free_list = u->next;
      --c.free_cnt;
    }
    --c.active;
    low = c.free_cnt < reclaimfuzz::linux_tree::kLowWatermark && !__atomic_load_n(&c.refill.pending, __ATOMIC_RELAXED);
    if (low) c.refill_fails = reclaimfuzz::linux_tree::AllocationMayFail("bpf_mem_refill (GFP_NOWAIT) may fail");
  }
  kernel::local_irq_restore(flags);
  if (low) kernel::irq_work_queue(&c.refill);
  if (u == nullptr && gfp == RF_GFP_KERNEL) {
    kernel::might_sleep("bpf_mem_cache_alloc_flags(GFP_KERNEL)");
    kernel::preemption_point(reclaimfuzz::sched::PointKind::kResched,
                             "bpf_mem_cache_alloc_flags(GFP_KERNEL) may sleep");
    u = reclaimfuzz::linux_tree::NewUnit(ma, "bpf_mem_cache_alloc_flags");
  }
  if (u == nullptr) return nullptr;
  if (reclaimfuzz::sched::Scheduler* s = reclaimfuzz::sched::Scheduler::Current()) {
    s->Note("bpf_mem_cache_alloc", kernel::slab::IdOf(u));
  }
  return reinterpret_cast<char*>(u) + kHeader;
}

void rf_mem_cache_free(struct rf_mem_alloc* ma, void* p) {
  if (p == nullptr) return;
  Unit* u = reinterpret_cast<Unit*>(static_cast<char*>(p) - kHeader);
  const int cpu = kernel::smp_processor_id();
  Cache& c = ma->caches[cpu];
  const kernel::irqflags_t flags = kernel::local_irq_save_impl();
  kernel::preemption_point(reclaimfuzz::sched::PointKind::kAccess, "unit_free");
  bool high;
  {
    reclaimfuzz::linux_tree::CacheSection section(c);
    reclaimfuzz::linux_tree::Push(c, u);
    high = c.free_cnt > reclaimfuzz::linux_tree::kHighWatermark;
  }
  if (reclaimfuzz::sched::Scheduler* s = reclaimfuzz::sched::Scheduler::Current()) {
    s->Note("bpf_mem_cache_free (reused at once)", kernel::slab::IdOf(u));
  }
  kernel::local_irq_restore(flags);
  if (high && !kernel::in_nmi()) reclaimfuzz::linux_tree::FreeBulk(c);  // the kernel defers it to irq_work
}

void rf_mem_cache_raw_free(void* p) {
  if (p == nullptr) return;
  kernel::kfree(static_cast<char*>(p) - kHeader, "bpf_mem_cache_raw_free");
}

}  // extern "C"
