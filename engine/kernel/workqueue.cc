// SPDX-License-Identifier: MIT
#include "engine/kernel/workqueue.h"

#include "absl/strings/str_cat.h"
#include "engine/kernel/context.h"
#include "engine/sched/coverage.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

namespace reclaimfuzz::kernel {
namespace {

struct Pool {
  work_struct* head = nullptr;
  work_struct* tail = nullptr;
  bool running = false;
};
Pool g_pools[sched::kMaxVcpus];
workqueue_struct g_system_wq{"events"};

bool HasWork(void* arg) { return static_cast<Pool*>(arg)->head != nullptr; }

void WorkerBody(int cpu) {
  Pool& p = g_pools[cpu];
  sched::Scheduler* s = sched::Scheduler::Current();
  do {
    while (p.head != nullptr) {
      preemption_point(sched::PointKind::kAccess, "process_one_work");
      // Take the item with IRQs off: interrupts on this vCPU queue work too.
      irqflags_t flags;
      local_irq_save(flags);
      work_struct* w = p.head;
      p.head = w->next;
      if (p.head == nullptr) p.tail = nullptr;
      w->next = nullptr;
      w->pending = false;
      p.running = true;
      local_irq_restore(flags);
      tsan::Acquire(w);
      s->Note("work start");
      w->func(w);
      p.running = false;
    }
  } while (s->WaitFor(&HasWork, &p, "kworker idle"));
}

}  // namespace

workqueue_struct* system_wq = &g_system_wq;

bool queue_work_on(int cpu, workqueue_struct* wq, work_struct* work) {
  (void)wq;
  assert_not_nmi("queue_work_on()");
  preemption_point(sched::PointKind::kAtomic, "queue_work_on");
  irqflags_t flags;
  local_irq_save(flags);
  if (work->pending) {
    local_irq_restore(flags);
    return false;
  }
  work->pending = true;
  work->next = nullptr;
  tsan::Release(work);
  Pool& p = g_pools[cpu];
  if (p.tail != nullptr) {
    p.tail->next = work;
  } else {
    p.head = work;
  }
  p.tail = work;
  local_irq_restore(flags);
  return true;
}

bool work_pending(const work_struct* work) { return work->pending; }

namespace workqueue {

// Not in the fuzzer's coverage (engine/sched/coverage.h): what it clears
// is what the previous execution left.
RF_NO_COVERAGE absl::Status Reset(sched::Scheduler& s) {
  for (auto& p : g_pools) p = Pool{};
  for (int c = 0; c < s.num_vcpus(); ++c) {
    absl::StatusOr<int> id = s.SpawnService(absl::StrCat("kworker/", c), sched::TaskKind::kKworker, c, &HasWork,
                                            &g_pools[c], [c] { WorkerBody(c); });
    if (!id.ok()) return id.status();
  }
  return absl::OkStatus();
}

bool Idle() {
  for (const auto& p : g_pools) {
    if (p.head != nullptr || p.running) return false;
  }
  return true;
}

}  // namespace workqueue
}  // namespace reclaimfuzz::kernel
