// SPDX-License-Identifier: MIT
// Per-CPU variables: one slot per vCPU (include/linux/percpu-defs.h).
// this_cpu_ptr() is only stable while the caller cannot migrate
// (migrate_disable, preempt_disable, or IRQs off), as in the kernel; tasks
// here are pinned, so it always is.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_PERCPU_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_PERCPU_H_

#include "engine/kernel/context.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::kernel {

template <typename T>
struct PerCpu {
  T slot[sched::kMaxVcpus];
};

template <typename T>
inline T* this_cpu_ptr(PerCpu<T>* v) {
  return &v->slot[smp_processor_id()];
}
template <typename T>
inline T* per_cpu_ptr(PerCpu<T>* v, int cpu) {
  return &v->slot[cpu];
}

#define DEFINE_PER_CPU(type, name) ::reclaimfuzz::kernel::PerCpu<type> name

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_PERCPU_H_
