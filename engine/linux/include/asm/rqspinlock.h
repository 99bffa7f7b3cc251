/* SPDX-License-Identifier: MIT */
/* reclaimfuzz shim: the resilient queued spinlock (include/asm-generic/
 * rqspinlock.h) on engine/kernel/rqspinlock.h: -EDEADLK on AA/ABBA,
 * -ETIMEDOUT after a bounded number of spins, a per-vCPU held-lock table. */
#include "rf_shim.h"
typedef struct rqspinlock { unsigned long rf_word[4]; } rqspinlock_t;
#define raw_res_spin_lock_init(l) rf_res_spin_lock_init((struct rqspinlock *)(l), #l)
#define raw_res_spin_lock_irqsave(l, f) rf_res_spin_lock_irqsave((struct rqspinlock *)(l), &(f))
#define raw_res_spin_unlock_irqrestore(l, f) rf_res_spin_unlock_irqrestore((struct rqspinlock *)(l), (f))
#define raw_res_spin_lock(l) rf_res_spin_lock((struct rqspinlock *)(l))
#define raw_res_spin_unlock(l) rf_res_spin_unlock((struct rqspinlock *)(l))
