// SPDX-License-Identifier: MIT
#include "engine/kernel/lockdep.h"

#include <algorithm>
#include <cstdio>

#include "engine/report/report.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::kernel {
namespace {

sched::TaskKernelState* K() {
  sched::Scheduler* s = sched::Scheduler::Current();
  if (s == nullptr || s->current_task() < 0) return nullptr;
  return &s->task(s->current_task()).k;
}

}  // namespace

const char* lockdep_wait_type_name(uint8_t t) {
  switch (t) {
    case LD_WAIT_FREE:
      return "wait-free";
    case LD_WAIT_SPIN:
      return "raw spin";
    case LD_WAIT_CONFIG:
      return "spinlock_t (sleeps on PREEMPT_RT)";
    case LD_WAIT_SLEEP:
      return "sleeping";
    default:
      return "invalid";
  }
}

void lock_acquire(const void* lock, const char* name, uint8_t wait_type) {
  sched::Scheduler* s = sched::Scheduler::Current();
  sched::TaskKernelState* k = K();
  if (k == nullptr) return;
  // check_wait_context(): the innermost wait type the context allows.
  uint8_t curr_inner = LD_WAIT_MAX;
  const char* why = nullptr;
  if (s->in_nmi() || s->in_hardirq()) {
    curr_inner = LD_WAIT_SPIN;
    why = s->in_nmi() ? "NMI context" : "hardirq context";
  }
  for (int i = 0; i < k->nheld; ++i) {
    if (k->held[i].wait_type < curr_inner) {
      curr_inner = k->held[i].wait_type;
      why = k->held[i].name;
    }
  }
  if (wait_type > curr_inner) {
    char key[96];
    snprintf(key, sizeof key, "taking %s [%s] where [%s] is allowed", name, lockdep_wait_type_name(wait_type),
             lockdep_wait_type_name(curr_inner));
    check::ReportKeyed(check::kInvalidWaitContext, -1, key,
                       "BUG: Invalid wait context: trying to take %s [%s] while %s%s [%s] allows at most "
                       "[%s]",
                       name, lockdep_wait_type_name(wait_type),
                       (s->in_nmi() || s->in_hardirq()) && why != nullptr && curr_inner == LD_WAIT_SPIN && k->nheld == 0
                           ? "in "
                           : "holding ",
                       why ? why : "?", lockdep_wait_type_name(curr_inner), lockdep_wait_type_name(curr_inner));
  }
  if (k->nheld < sched::kMaxHeldLocks) {
    k->held[k->nheld++] = sched::HeldLock{lock, name, wait_type, static_cast<uint8_t>(s->current_depth())};
  }
}

void lock_release(const void* lock, const char* name) {
  sched::TaskKernelState* k = K();
  if (k == nullptr) return;
  for (int i = k->nheld - 1; i >= 0; --i) {
    if (k->held[i].lock == lock) {
      std::copy(k->held + i + 1, k->held + k->nheld, k->held + i);
      --k->nheld;
      return;
    }
  }
  check::Report(check::kLockOrder, -1, "releasing lock %s that the running context does not hold", name);
}

bool lock_is_held(const void* lock) {
  sched::TaskKernelState* k = K();
  if (k == nullptr) return false;
  for (int i = 0; i < k->nheld; ++i) {
    if (k->held[i].lock == lock) return true;
  }
  return false;
}

int raw_locks_held() {
  sched::TaskKernelState* k = K();
  if (k == nullptr) return 0;
  int n = 0;
  for (int i = 0; i < k->nheld; ++i) n += k->held[i].wait_type <= LD_WAIT_SPIN;
  return n;
}

}  // namespace reclaimfuzz::kernel
