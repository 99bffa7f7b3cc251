// SPDX-License-Identifier: MIT
#include "engine/kernel/irq_work.h"

#include "absl/strings/str_cat.h"
#include "engine/kernel/context.h"
#include "engine/sched/coverage.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

namespace reclaimfuzz::kernel {
namespace {

llist_head g_lists[sched::kMaxVcpus];
int g_cpu_arg[sched::kMaxVcpus];

bool Pending(void* arg) {
  const int cpu = *static_cast<int*>(arg);
  sched::Scheduler* s = sched::Scheduler::Current();
  return s != nullptr && s->irq_work_pending(cpu);
}

// Runs in the hardirq signal handler.
void RunList(int cpu) {
  llist_node* n = llist_del_all(&g_lists[cpu]);
  // llist_del_all returns newest first; run oldest first, as irq_work_run.
  llist_node* rev = nullptr;
  while (n != nullptr) {
    llist_node* next = n->next;
    n->next = rev;
    rev = n;
    n = next;
  }
  while (rev != nullptr) {
    irq_work* w = llist_entry(rev, irq_work, llnode);
    rev = rev->next;
    __atomic_store_n(&w->pending, 0, __ATOMIC_SEQ_CST);
    tsan::Acquire(w);
    w->func(w);
  }
}

void IdleBody(int cpu) {
  sched::Scheduler* s = sched::Scheduler::Current();
  do {
    // The irq_work signal is delivered at this point.
    preemption_point(sched::PointKind::kIrq, "idle");
  } while (s->WaitFor(&Pending, &g_cpu_arg[cpu], "idle"));
}

}  // namespace

bool irq_work_queue(irq_work* work) {
  preemption_point(sched::PointKind::kAtomic, "irq_work_queue");
  int expected = 0;
  if (!__atomic_compare_exchange_n(&work->pending, &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    return false;
  }
  tsan::Release(work);
  const int cpu = smp_processor_id();
  llist_add(&work->llnode, &g_lists[cpu]);
  if (sched::Scheduler* s = sched::Scheduler::Current()) s->RaiseIrqWork(cpu);
  return true;
}

namespace irq_work_internal {

// Not in the fuzzer's coverage (engine/sched/coverage.h): what it clears
// is what the previous execution left.
RF_NO_COVERAGE absl::Status Reset(sched::Scheduler& s) {
  for (auto& l : g_lists) l.first = nullptr;
  s.SetIrqWorkHandler(&RunList);
  for (int c = 0; c < s.num_vcpus(); ++c) {
    g_cpu_arg[c] = c;
    absl::StatusOr<int> id = s.SpawnService(absl::StrCat("swapper/", c), sched::TaskKind::kKthread, c, &Pending,
                                            &g_cpu_arg[c], [c] { IdleBody(c); });
    if (!id.ok()) return id.status();
  }
  return absl::OkStatus();
}

bool Idle() {
  for (const auto& l : g_lists) {
    if (l.first != nullptr) return false;
  }
  return true;
}

}  // namespace irq_work_internal
}  // namespace reclaimfuzz::kernel
