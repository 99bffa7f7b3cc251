// SPDX-License-Identifier: MIT
#include "engine/kernel/rqspinlock.h"

#include <time.h>

#include <algorithm>

#include "engine/kernel/lockdep.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

namespace reclaimfuzz::kernel {
namespace {

// rqspinlock_held_locks: one table per vCPU, plus one for housekeeping.
rqspinlock_held g_held[sched::kMaxVcpus + 1];

int table_index() {
  sched::Scheduler* s = sched::Scheduler::Current();
  const int c = s ? s->current_vcpu() : 0;
  return c < 0 ? sched::kMaxVcpus : c;
}

int num_cpus() {
  sched::Scheduler* s = sched::Scheduler::Current();
  return s ? s->num_vcpus() : 1;
}

void grab_held_lock_entry(rqspinlock_held* t, const void* lock) {
  if (t->cnt < RES_NR_HELD) t->locks[t->cnt] = lock;
  ++t->cnt;
}

void release_held_lock_entry(rqspinlock_held* t) {
  if (t->cnt <= 0) return;
  --t->cnt;
  if (t->cnt < RES_NR_HELD) t->locks[t->cnt] = nullptr;
}

bool deadlock_aa(const rqspinlock_held* t, const void* lock) {
  const int n = std::min(t->cnt, RES_NR_HELD);
  for (int i = 0; i < n - 1; ++i) {
    if (t->locks[i] == lock) return true;
  }
  return false;
}

// check_deadlock_ABBA(): a remote vCPU holds our lock (below its newest
// entry) and its newest entry, the lock it is attempting, is held by us.
bool deadlock_abba(int self, const rqspinlock_held* t, const void* lock) {
  const int mine = std::min(t->cnt, RES_NR_HELD);
  for (int c = 0; c < num_cpus(); ++c) {
    if (c == self) continue;
    const rqspinlock_held* r = &g_held[c];
    const int rn = std::min(r->cnt, RES_NR_HELD);
    if (rn == 0) continue;
    for (int i = 0; i < rn - 1; ++i) {
      if (r->locks[i] != lock) continue;
      for (int j = 0; j < mine - 1; ++j) {
        if (r->locks[rn - 1] == t->locks[j]) return true;
      }
    }
  }
  return false;
}

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

void raw_res_spin_lock_init(rqspinlock_t* l, const char* name) {
  l->locked = 0;
  l->owner_task = -1;
  l->name = name;
}

void rqspinlock_reset() {
  for (auto& t : g_held) t = rqspinlock_held{};
}

const rqspinlock_held* rqspinlock_held_table(int cpu) { return &g_held[cpu]; }

int res_spin_lock(rqspinlock_t* l) {
  sched::Scheduler* s = sched::Scheduler::Current();
  const int self = table_index();
  rqspinlock_held* t = &g_held[self];
  grab_held_lock_entry(t, l);
  preemption_point(sched::PointKind::kLock, "res_spin_lock");
  if (deadlock_aa(t, l)) {
    release_held_lock_entry(t);
    if (s) s->Note("rqspinlock -EDEADLK (AA)");
    return -EDEADLK;
  }
  const bool real_time = s != nullptr && s->native();
  const uint64_t deadline = real_time ? MonotonicNs() + kRqspinlockTimeoutNs : 0;
  for (int spins = 0;; ++spins) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&l->locked, &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      l->owner_task = current_task_id();
      tsan::Acquire(l);
      lock_acquire(l, l->name, LD_WAIT_SPIN);
      return 0;
    }
    if (deadlock_abba(self, t, l)) {
      release_held_lock_entry(t);
      if (s) s->Note("rqspinlock -EDEADLK (ABBA)");
      return -EDEADLK;
    }
    if (real_time ? MonotonicNs() >= deadline : spins >= kRqspinlockTimeoutSpins) {
      release_held_lock_entry(t);
      if (s) s->Note("rqspinlock -ETIMEDOUT");
      return -ETIMEDOUT;
    }
    preemption_point(sched::PointKind::kSpin, "res_spin_lock spin");
  }
}

void res_spin_unlock(rqspinlock_t* l) {
  rqspinlock_held* t = &g_held[table_index()];
  const int n = std::min(t->cnt, RES_NR_HELD);
  if (n == 0 || t->locks[n - 1] != l) {
    check::Report(check::kLockOrder, -1, "rqspinlock %s released out of LIFO order (newest held: %s)", l->name,
                  n == 0 ? "none" : static_cast<const rqspinlock_t*>(t->locks[n - 1])->name);
  }
  lock_release(l, l->name);
  l->owner_task = -1;
  tsan::Release(l);
  __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
  release_held_lock_entry(t);
  preemption_point(sched::PointKind::kLock, "res_spin_unlock");
}

int raw_res_spin_lock_irqsave_impl(rqspinlock_t* l, irqflags_t* flags) {
  local_irq_save(*flags);
  preempt_disable();
  const int ret = res_spin_lock(l);
  if (ret != 0) {
    preempt_enable();
    local_irq_restore(*flags);
  }
  return ret;
}

void raw_res_spin_unlock_irqrestore(rqspinlock_t* l, irqflags_t flags) {
  res_spin_unlock(l);
  preempt_enable();
  local_irq_restore(flags);
}

}  // namespace reclaimfuzz::kernel
