// SPDX-License-Identifier: MIT
// Resilient queued spinlock (include/asm-generic/rqspinlock.h,
// kernel/bpf/rqspinlock.c), as BPF local storage uses it.
//
// res_spin_lock() returns 0, -EDEADLK or -ETIMEDOUT:
//   AA     the lock is in this vCPU's held-lock table (e.g. an NMI program
//          hitting a lock held by the task it interrupted): -EDEADLK at once;
//   ABBA   a vCPU that holds the lock we wait for is itself waiting for a
//          lock we hold: -EDEADLK;
//   timeout after kRqspinlockTimeoutSpins spin points (the kernel's
//          RES_DEF_TIMEOUT of 0.25 s): -ETIMEDOUT; in the scheduler's
//          native-thread mode, after 0.25 s of real time, as the kernel.
// The table is per vCPU (rqspinlock_held_locks), up to 31 entries; the entry
// for a lock is taken before spinning, so others can see what we wait for.
// Unlocks must be LIFO: releasing a lock that is not the table's top is a
// lock-order finding.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_RQSPINLOCK_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_RQSPINLOCK_H_

#include <cerrno>
#include <cstdint>

#include "engine/kernel/context.h"
#include "engine/sched/choice.h"

namespace reclaimfuzz::kernel {

// MODEL: the kernel times out after 0.25 s of spinning; here after this many
// spin points, so a timeout is a schedule the fuzzer can reach. The
// native-thread mode, where the OS decides how long a lock holder stalls,
// keeps the kernel's real-time timeout: a count of spin points would time
// out whenever the holder's thread waits for a core for a few microseconds.
inline constexpr int kRqspinlockTimeoutSpins = sched::kStallSpinPoints;
inline constexpr uint64_t kRqspinlockTimeoutNs = 250'000'000;
inline constexpr int RES_NR_HELD = 31;

struct rqspinlock_t {
  int locked = 0;
  int owner_task = -1;
  const char* name = "rqspinlock";
};

struct rqspinlock_held {
  int cnt = 0;
  const void* locks[RES_NR_HELD] = {};
};

void raw_res_spin_lock_init(rqspinlock_t* l, const char* name);
int res_spin_lock(rqspinlock_t* l);
void res_spin_unlock(rqspinlock_t* l);
int raw_res_spin_lock_irqsave_impl(rqspinlock_t* l, irqflags_t* flags);
void raw_res_spin_unlock_irqrestore(rqspinlock_t* l, irqflags_t flags);
#define raw_res_spin_lock_irqsave(l, flags) ::reclaimfuzz::kernel::raw_res_spin_lock_irqsave_impl((l), &(flags))

// The held-lock table of a vCPU (for tests and oracles).
const rqspinlock_held* rqspinlock_held_table(int cpu);
void rqspinlock_reset();

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_RQSPINLOCK_H_
