// SPDX-License-Identifier: MIT
// raw_spinlock_t and spinlock_t (include/linux/spinlock.h) on the virtual
// machine.
//
// Acquire: preempt_disable, then spin with a preemption point per try (a
// spin point: the scheduler lets another vCPU run). Release: store, then
// preempt_enable. lockdep-lite checks wait types on every acquire. For TSan,
// an acquire is __tsan_acquire(lock) and a release __tsan_release(lock), so
// accesses ordered by a shim lock are not reported as races and unordered
// ones are.
//
// raw_spinlock_t has wait type LD_WAIT_SPIN; spinlock_t LD_WAIT_CONFIG (it
// sleeps on PREEMPT_RT), which is what makes B3 visible.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_SPINLOCK_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_SPINLOCK_H_

#include "engine/kernel/context.h"
#include "engine/kernel/lockdep.h"

namespace reclaimfuzz::kernel {

struct raw_spinlock_t {
  int locked = 0;
  int owner_task = -1;
  int owner_depth = 0;
  const char* name = "raw_spinlock";
  uint8_t wait_type = LD_WAIT_SPIN;
};

// spinlock_t: same machine, sleeping wait type.
struct spinlock_t {
  raw_spinlock_t rlock{0, -1, 0, "spinlock", LD_WAIT_CONFIG};
};

void raw_spin_lock_init(raw_spinlock_t* l, const char* name);
void spin_lock_init(spinlock_t* l, const char* name);

void raw_spin_lock(raw_spinlock_t* l);
void raw_spin_unlock(raw_spinlock_t* l);
bool raw_spin_trylock(raw_spinlock_t* l);
irqflags_t raw_spin_lock_irqsave_impl(raw_spinlock_t* l);
void raw_spin_unlock_irqrestore(raw_spinlock_t* l, irqflags_t flags);
#define raw_spin_lock_irqsave(l, flags) ((flags) = ::reclaimfuzz::kernel::raw_spin_lock_irqsave_impl(l))

inline void spin_lock(spinlock_t* l) { raw_spin_lock(&l->rlock); }
inline void spin_unlock(spinlock_t* l) { raw_spin_unlock(&l->rlock); }
inline irqflags_t spin_lock_irqsave_impl(spinlock_t* l) { return raw_spin_lock_irqsave_impl(&l->rlock); }
inline void spin_unlock_irqrestore(spinlock_t* l, irqflags_t f) { raw_spin_unlock_irqrestore(&l->rlock, f); }
#define spin_lock_irqsave(l, flags) ((flags) = ::reclaimfuzz::kernel::spin_lock_irqsave_impl(l))

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_SPINLOCK_H_
