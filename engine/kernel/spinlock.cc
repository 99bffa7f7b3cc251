// SPDX-License-Identifier: MIT
#include "engine/kernel/spinlock.h"

#include "engine/report/report.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

namespace reclaimfuzz::kernel {
namespace {
bool in_interrupt_handler() {
  sched::Scheduler* s = sched::Scheduler::Current();
  return s != nullptr && s->current_depth() > 0;
}
}  // namespace

void raw_spin_lock_init(raw_spinlock_t* l, const char* name) {
  l->locked = 0;
  l->owner_task = -1;
  l->owner_depth = 0;
  l->name = name;
  l->wait_type = LD_WAIT_SPIN;
}

void spin_lock_init(spinlock_t* l, const char* name) {
  raw_spin_lock_init(&l->rlock, name);
  l->rlock.wait_type = LD_WAIT_CONFIG;
}

bool raw_spin_trylock(raw_spinlock_t* l) {
  preempt_disable();
  preemption_point(sched::PointKind::kLock, "raw_spin_trylock");
  int expected = 0;
  if (!__atomic_compare_exchange_n(&l->locked, &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    preempt_enable();
    return false;
  }
  lock_acquire(l, l->name, l->wait_type);
  l->owner_task = current_task_id();
  tsan::Acquire(l);
  return true;
}

void raw_spin_lock(raw_spinlock_t* l) {
  preempt_disable();
  lock_acquire(l, l->name, l->wait_type);
  preemption_point(sched::PointKind::kLock, "raw_spin_lock");
  for (;;) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&l->locked, &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      break;
    }
    if (l->owner_task == current_task_id()) {
      check::Report(check::kDeadlock, -1, "raw spinlock %s: acquired again by its owner (AA)", l->name);
    }
    if (in_interrupt_handler() && l->owner_task != current_task_id()) {
      // MODEL: while a handler runs no other task runs, so a lock held by
      // another vCPU's task is never released under it. The kernel's other
      // CPUs go on and release it; this machine cannot show what follows,
      // so the execution ends here without a verdict.
      sched::Scheduler::Current()->Abandon("an interrupt handler spins on a lock held on another vCPU (not modelled)");
    }
    preemption_point(sched::PointKind::kSpin, "raw_spin_lock spin");
  }
  l->owner_task = current_task_id();
  tsan::Acquire(l);
}

void raw_spin_unlock(raw_spinlock_t* l) {
  lock_release(l, l->name);
  l->owner_task = -1;
  tsan::Release(l);
  __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
  preemption_point(sched::PointKind::kLock, "raw_spin_unlock");
  preempt_enable();
}

irqflags_t raw_spin_lock_irqsave_impl(raw_spinlock_t* l) {
  irqflags_t flags;
  local_irq_save(flags);
  raw_spin_lock(l);
  return flags;
}

void raw_spin_unlock_irqrestore(raw_spinlock_t* l, irqflags_t flags) {
  raw_spin_unlock(l);
  local_irq_restore(flags);
}

}  // namespace reclaimfuzz::kernel
