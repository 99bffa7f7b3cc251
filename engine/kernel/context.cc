// SPDX-License-Identifier: MIT
#include "engine/kernel/context.h"

#include <cstdio>

#include "engine/kernel/lockdep.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::kernel {
namespace {

using sched::Scheduler;

inline Scheduler* S() { return Scheduler::Current(); }

inline sched::TaskKernelState* K() {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return nullptr;
  return &s->task(s->current_task()).k;
}

// A regular RCU reader is any region with rcu_read_lock held, preemption
// off, softirqs off, or IRQs off (the consolidated flavour). Leaving the last
// of them is a quiescent state for the running task.
void note_qs_if_quiescent() {
  Scheduler* s = S();
  sched::TaskKernelState* k = K();
  if (k == nullptr) return;
  if (k->rcu_read_nesting == 0 && k->preempt_count == 0 && !s->irqs_disabled() && s->current_depth() == 0) {
    ++k->rcu_qs;
  }
}

}  // namespace

void preemption_point(sched::PointKind kind, const char* label, const char* func) {
  if (Scheduler* s = S()) s->Point(kind, label, func);
}

bool in_nmi() { return S() != nullptr && S()->in_nmi(); }
bool in_hardirq() { return S() != nullptr && S()->in_hardirq(); }
bool in_softirq() { return S() != nullptr && S()->in_softirq(); }
bool in_serving_softirq() { return in_softirq(); }
bool in_task() { return S() == nullptr || S()->in_task(); }
bool in_interrupt() { return in_nmi() || in_hardirq() || in_softirq(); }
bool irqs_disabled() { return S() != nullptr && S()->irqs_disabled(); }
bool preemptible() { return S() != nullptr && S()->preemptible(); }
int smp_processor_id() {
  // MODEL: housekeeping threads (RCU GP kthreads) have no vCPU; they use no
  // per-CPU data, and report CPU 0.
  const int c = S() ? S()->current_vcpu() : 0;
  return c < 0 ? 0 : c;
}
int current_task_id() { return S() ? S()->current_task() : -1; }
int preempt_count() {
  sched::TaskKernelState* k = K();
  return k ? k->preempt_count : 0;
}

void local_irq_disable() {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return;
  preemption_point(sched::PointKind::kAccess, "local_irq_disable");
  s->vcpu_state().irqs_disabled = true;
}

void local_irq_enable() {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return;
  if (s->current_depth() > 0) {
    check::Report(check::kContextViolation, -1, "local_irq_enable() inside an interrupt handler");
  }
  s->vcpu_state().irqs_disabled = false;
  note_qs_if_quiescent();
  s->OnIrqsEnabled();
  preemption_point(sched::PointKind::kIrq, "local_irq_enable");
}

irqflags_t local_irq_save_impl() {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return 0;
  preemption_point(sched::PointKind::kAccess, "local_irq_save");
  const irqflags_t was_disabled = s->vcpu_state().irqs_disabled ? 1 : 0;
  s->vcpu_state().irqs_disabled = true;
  return was_disabled;
}

void local_irq_restore(irqflags_t flags) {
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return;
  if (flags != 0) return;  // IRQs stay off
  s->vcpu_state().irqs_disabled = false;
  note_qs_if_quiescent();
  s->OnIrqsEnabled();
  preemption_point(sched::PointKind::kIrq, "local_irq_restore");
}

void preempt_disable() {
  if (sched::TaskKernelState* k = K()) ++k->preempt_count;
}

void preempt_enable() {
  sched::TaskKernelState* k = K();
  if (k == nullptr) return;
  if ((k->preempt_count & sched::kPreemptMask) == 0) {
    check::Report(check::kContextViolation, -1, "preempt_enable() without preempt_disable()");
  }
  --k->preempt_count;
  if (k->preempt_count == 0) {
    note_qs_if_quiescent();
    preemption_point(sched::PointKind::kAccess, "preempt_enable");
  }
}

void migrate_disable() {
  if (sched::TaskKernelState* k = K()) ++k->migrate_disable;
}
void migrate_enable() {
  sched::TaskKernelState* k = K();
  if (k == nullptr) return;
  if (k->migrate_disable == 0) {
    check::Report(check::kContextViolation, -1, "migrate_enable() without migrate_disable()");
  }
  --k->migrate_disable;
}

void local_bh_disable() {
  if (sched::TaskKernelState* k = K()) k->preempt_count += sched::kSoftirqOffset;
}
void local_bh_enable() {
  sched::TaskKernelState* k = K();
  if (k == nullptr) return;
  k->preempt_count -= sched::kSoftirqOffset;
  if (k->preempt_count == 0) note_qs_if_quiescent();
}

void might_sleep(const char* what) {
  Scheduler* s = S();
  sched::TaskKernelState* k = K();
  if (k == nullptr) return;
  if (s->current_depth() > 0 || k->preempt_count != 0 || s->irqs_disabled()) {
    char key[96];
    snprintf(key, sizeof key, "%s called from %s", what,
             s->in_nmi()              ? "NMI context"
             : s->current_depth() > 0 ? "hardirq context"
                                      : "atomic context");
    check::ReportKeyed(check::kContextViolation, -1, key,
                       "BUG: sleeping function called from invalid context: %s "
                       "(in_atomic=%d irqs_disabled=%d in_nmi=%d in_hardirq=%d)",
                       what, k->preempt_count != 0, s->irqs_disabled(), s->in_nmi(), s->in_hardirq());
  }
  if (raw_locks_held() > 0) {
    char key[96];
    snprintf(key, sizeof key, "%s while holding a raw spinlock", what);
    check::ReportKeyed(check::kContextViolation, -1, key, "%s: sleeping while holding a raw spinlock", what);
  }
  if (k->rcu_read_nesting > 0) {
    char key[96];
    snprintf(key, sizeof key, "%s inside an RCU read-side critical section", what);
    check::ReportKeyed(check::kContextViolation, -1, key,
                       "%s: sleeping inside a regular RCU read-side critical section", what);
  }
}

void msleep_model(const char* what) {
  might_sleep(what);
  Scheduler* s = S();
  if (s == nullptr || s->current_task() < 0) return;
  // The task gives up its vCPU and may be resumed at any later pick: how
  // long it sleeps is the schedule's choice.
  s->Yield(what);
}

void assert_not_nmi(const char* what) {
  if (in_nmi()) {
    char key[96];
    snprintf(key, sizeof key, "%s called from NMI context", what);
    check::ReportKeyed(check::kContextViolation, -1, key, "%s called from NMI context (not NMI-safe)", what);
  }
}

void rcu_note_qs_if_quiescent() { note_qs_if_quiescent(); }

}  // namespace reclaimfuzz::kernel
