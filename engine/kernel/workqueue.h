// SPDX-License-Identifier: MIT
// Workqueues (include/linux/workqueue.h): one kworker thread per vCPU runs,
// in process context, the work items queued on its vCPU, oldest first.
//
// queue_work_on() takes the pool lock with IRQs off, so it is callable from
// task, softirq and hardirq context, not from NMI (context-violation). A
// work item already pending is not queued twice (returns false). Queueing
// releases, and running acquires, the item for TSan: what the queuer wrote
// before is visible to the work function.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_WORKQUEUE_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_WORKQUEUE_H_

#include "absl/status/status.h"

namespace reclaimfuzz::sched {
class Scheduler;
}

namespace reclaimfuzz::kernel {

struct work_struct;
using work_func_t = void (*)(work_struct* work);

struct work_struct {
  work_func_t func = nullptr;
  work_struct* next = nullptr;
  bool pending = false;
};

struct workqueue_struct {
  const char* name;
};
extern workqueue_struct* system_wq;

inline void INIT_WORK(work_struct* w, work_func_t fn) {
  w->func = fn;
  w->next = nullptr;
  w->pending = false;
}

bool queue_work_on(int cpu, workqueue_struct* wq, work_struct* work);
bool work_pending(const work_struct* work);

namespace workqueue {
// Starts an execution: empties the queues, spawns kworker/N per vCPU.
absl::Status Reset(sched::Scheduler& s);
bool Idle();  // no work queued or running
}  // namespace workqueue

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_WORKQUEUE_H_
