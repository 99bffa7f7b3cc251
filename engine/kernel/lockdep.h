// SPDX-License-Identifier: MIT
// lockdep-lite: lock wait types and context rules (kernel/locking/lockdep.c,
// CONFIG_PROVE_RAW_LOCK_NESTING).
//
// Each lock has a wait type. Taking a lock whose wait type is above the
// innermost one allowed by the current context is "invalid-wait-context":
// a spinlock_t (sleeping on PREEMPT_RT) under a raw spinlock or in hardirq
// or NMI context, a mutex under any spinlock. That is the B3 report:
// call_rcu_tasks_trace() taking the SRCU spinlock_t under the scheduler's
// raw rq lock.
//
// Held locks live on the task (task_struct::held_locks); an interrupt's
// locks stack on the interrupted task's, as in the kernel.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_LOCKDEP_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_LOCKDEP_H_

#include <cstdint>

namespace reclaimfuzz::kernel {

// include/linux/lockdep_types.h
enum lockdep_wait_type : uint8_t {
  LD_WAIT_INV = 0,
  LD_WAIT_FREE,    // wait free, rcu etc.
  LD_WAIT_SPIN,    // spin loops, raw_spinlock_t etc.
  LD_WAIT_CONFIG,  // spinlock_t: sleeping on PREEMPT_RT
  LD_WAIT_SLEEP,   // sleeping locks, mutex_t etc.
  LD_WAIT_MAX,
};

const char* lockdep_wait_type_name(uint8_t t);

// Checks the wait context and records the lock as held by the running
// context. `lock` identifies the instance; `name` is a static string.
void lock_acquire(const void* lock, const char* name, uint8_t wait_type);
// Reports lock-order if the lock is not held by the running task.
void lock_release(const void* lock, const char* name);
// True if the running task holds `lock`.
bool lock_is_held(const void* lock);
// Number of raw (LD_WAIT_SPIN) locks held by the running task.
int raw_locks_held();

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_LOCKDEP_H_
