// SPDX-License-Identifier: MIT
// READ_ONCE/WRITE_ONCE, barriers and the generic atomics (cmpxchg, xchg),
// as include/asm-generic/rwonce.h and atomic headers define them.
//
// Each access is preceded by a preemption point, so another vCPU or an
// interrupt may run between any two of them; the point names the function
// the macro was written in (__builtin_FUNCTION() of the wrapper's caller),
// which timelines show. Marked accesses are relaxed
// atomics (a data race through READ_ONCE/WRITE_ONCE is intentional and is
// not a TSan report); full atomics are sequentially consistent and give
// TSan a happens-before edge, as they give the kernel one.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_COMPILER_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_COMPILER_H_

#include <cstddef>

#include "engine/kernel/context.h"

namespace reclaimfuzz::kernel::internal_rw {

template <typename T>
inline T read_once(const T* p, const char* label, const char* func = __builtin_FUNCTION()) {
  preemption_point(sched::PointKind::kAccess, label, func);
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

template <typename T, typename V>
inline void write_once(T* p, V v, const char* label, const char* func = __builtin_FUNCTION()) {
  preemption_point(sched::PointKind::kAccess, label, func);
  __atomic_store_n(p, static_cast<T>(v), __ATOMIC_RELAXED);
}

template <typename T>
inline T load_acquire(const T* p, const char* label, const char* func = __builtin_FUNCTION()) {
  preemption_point(sched::PointKind::kAccess, label, func);
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

template <typename T, typename V>
inline void store_release(T* p, V v, const char* label, const char* func = __builtin_FUNCTION()) {
  preemption_point(sched::PointKind::kAccess, label, func);
  __atomic_store_n(p, static_cast<T>(v), __ATOMIC_RELEASE);
}

template <typename T, typename V, typename W>
inline T cmpxchg(T* p, V old_v, W new_v, const char* label, const char* func = __builtin_FUNCTION()) {
  preemption_point(sched::PointKind::kAtomic, label, func);
  T expected = static_cast<T>(old_v);
  __atomic_compare_exchange_n(p, &expected, static_cast<T>(new_v), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;  // the old value, as the kernel's cmpxchg()
}

template <typename T, typename V>
inline T xchg(T* p, V new_v, const char* label, const char* func = __builtin_FUNCTION()) {
  preemption_point(sched::PointKind::kAtomic, label, func);
  return __atomic_exchange_n(p, static_cast<T>(new_v), __ATOMIC_SEQ_CST);
}

}  // namespace reclaimfuzz::kernel::internal_rw

#define READ_ONCE(x) ::reclaimfuzz::kernel::internal_rw::read_once(&(x), "READ_ONCE(" #x ")")
#define WRITE_ONCE(x, v) ::reclaimfuzz::kernel::internal_rw::write_once(&(x), (v), "WRITE_ONCE(" #x ")")
#define smp_load_acquire(p) ::reclaimfuzz::kernel::internal_rw::load_acquire((p), "smp_load_acquire(" #p ")")
#define smp_store_release(p, v) ::reclaimfuzz::kernel::internal_rw::store_release((p), (v), "smp_store_release(" #p ")")
#define cmpxchg(p, o, n) ::reclaimfuzz::kernel::internal_rw::cmpxchg((p), (o), (n), "cmpxchg(" #p ")")
#define xchg(p, n) ::reclaimfuzz::kernel::internal_rw::xchg((p), (n), "xchg(" #p ")")
#define container_of(ptr, type, member) reinterpret_cast<type*>(reinterpret_cast<char*>(ptr) - offsetof(type, member))
#define barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_COMPILER_H_
