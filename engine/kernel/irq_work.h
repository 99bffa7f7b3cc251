// SPDX-License-Identifier: MIT
// irq_work (include/linux/irq_work.h): run a function in hardirq context on
// this vCPU, soon. irq_work_queue() is NMI-safe (an llist push plus a
// self-IPI), which makes it the trampoline out of NMI for anything that is
// not NMI-safe: always-defer-fixed's free path, and the SRCU fix that starts
// grace periods from irq_work instead of under the caller's locks.
//
// The self-IPI is a real signal: the function runs in the signal handler at
// the vCPU's next preemption point with IRQs on (or when its idle thread
// runs), with in_hardirq() true.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_IRQ_WORK_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_IRQ_WORK_H_

#include "absl/status/status.h"
#include "engine/kernel/llist.h"

namespace reclaimfuzz::sched {
class Scheduler;
}

namespace reclaimfuzz::kernel {

struct irq_work;
using irq_work_func_t = void (*)(irq_work* work);

struct irq_work {
  llist_node llnode;
  int pending = 0;  // atomic flag, as IRQ_WORK_PENDING
  irq_work_func_t func = nullptr;
};

inline void init_irq_work(irq_work* w, irq_work_func_t fn) {
  w->llnode.next = nullptr;
  w->pending = 0;
  w->func = fn;
}

// Queues on this vCPU; false if already pending. Any context.
bool irq_work_queue(irq_work* work);

namespace irq_work_internal {
// Starts an execution: empties the lists, installs the handler, spawns
// swapper/N (the idle thread that lets irq_work run on an idle vCPU).
absl::Status Reset(sched::Scheduler& s);
bool Idle();
}  // namespace irq_work_internal

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_IRQ_WORK_H_
