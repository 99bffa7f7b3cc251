// SPDX-License-Identifier: MIT
// Execution contexts, as the kernel's include/linux/preempt.h,
// irqflags.h and sched.h expose them to BPF local storage.
//
// Context of the running code = (task, interrupt depth on its vCPU):
//   in_nmi()      an NMI handler runs on this vCPU
//   in_hardirq()  a hardirq handler runs (an NMI may be nested in it)
//   in_softirq()  softirq processing (ksoftirqd, RCU callbacks)
//   in_task()     none of the above
// IRQ state is per vCPU; preempt_count and migrate_disable are per task.
// Every call that changes state is a preemption point.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_CONTEXT_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_CONTEXT_H_

#include "engine/sched/choice.h"

namespace reclaimfuzz::kernel {

// A preemption point with a static label (shown in traces).
void preemption_point(sched::PointKind kind, const char* label, const char* func = nullptr);

bool in_nmi();
bool in_hardirq();
bool in_softirq();
bool in_serving_softirq();
bool in_task();
bool in_interrupt();  // hardirq or NMI or softirq
bool irqs_disabled();
bool preemptible();
int smp_processor_id();  // vCPU of the running code; 0 outside any run
int current_task_id();   // -1 outside any run
int preempt_count();

using irqflags_t = unsigned long;

void local_irq_disable();
void local_irq_enable();
irqflags_t local_irq_save_impl();
void local_irq_restore(irqflags_t flags);
#define local_irq_save(flags) ((flags) = ::reclaimfuzz::kernel::local_irq_save_impl())

void preempt_disable();
void preempt_enable();
void migrate_disable();
void migrate_enable();
void local_bh_disable();
void local_bh_enable();

// Declares that the caller may sleep here: reports context-violation when
// called with preemption or IRQs off, in an interrupt, under a raw lock, or
// inside a regular RCU reader.
void might_sleep(const char* what);
// Sleeps (blocks) until the scheduler runs the task again: a sleepable
// program faulting, say. Checks might_sleep first.
void msleep_model(const char* what);
// Reports context-violation if called from NMI: for APIs that are not
// NMI-safe (call_rcu, kfree, queue_work_on ...).
void assert_not_nmi(const char* what);

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_CONTEXT_H_

namespace reclaimfuzz::kernel {
// For the RCU layer: the running task just left a regular RCU reader.
void rcu_note_qs_if_quiescent();
}  // namespace reclaimfuzz::kernel
