// SPDX-License-Identifier: MIT
// atomic_t and refcount_t (include/linux/atomic.h, refcount.h). Every
// operation is one preemption point followed by one real atomic.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_ATOMIC_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_ATOMIC_H_

#include "engine/kernel/compiler.h"

namespace reclaimfuzz::kernel {

struct atomic_t {
  int counter = 0;
};

#define ATOMIC_OP_POINT(label) preemption_point(sched::PointKind::kAtomic, label)

inline int atomic_read(const atomic_t* v) {
  preemption_point(sched::PointKind::kAccess, "atomic_read");
  return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}
inline void atomic_set(atomic_t* v, int i) {
  preemption_point(sched::PointKind::kAccess, "atomic_set");
  __atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}
inline int atomic_add_return(int i, atomic_t* v) {
  ATOMIC_OP_POINT("atomic_add_return");
  return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);
}
inline int atomic_inc_return(atomic_t* v) { return atomic_add_return(1, v); }
inline int atomic_dec_return(atomic_t* v) { return atomic_add_return(-1, v); }
inline void atomic_inc(atomic_t* v) { atomic_add_return(1, v); }
inline void atomic_dec(atomic_t* v) { atomic_add_return(-1, v); }
inline bool atomic_dec_and_test(atomic_t* v) { return atomic_add_return(-1, v) == 0; }
inline int atomic_cmpxchg(atomic_t* v, int old_v, int new_v) {
  ATOMIC_OP_POINT("atomic_cmpxchg");
  __atomic_compare_exchange_n(&v->counter, &old_v, new_v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return old_v;
}
inline int atomic_xchg(atomic_t* v, int new_v) {
  ATOMIC_OP_POINT("atomic_xchg");
  return __atomic_exchange_n(&v->counter, new_v, __ATOMIC_SEQ_CST);
}
inline void atomic_or(int i, atomic_t* v) {
  ATOMIC_OP_POINT("atomic_or");
  __atomic_fetch_or(&v->counter, i, __ATOMIC_SEQ_CST);
}

struct refcount_t {
  atomic_t refs;
};
inline void refcount_set(refcount_t* r, int n) { atomic_set(&r->refs, n); }
inline unsigned refcount_read(const refcount_t* r) { return static_cast<unsigned>(atomic_read(&r->refs)); }
inline bool refcount_inc_not_zero(refcount_t* r) {
  int old = atomic_read(&r->refs);
  while (old != 0) {
    const int seen = atomic_cmpxchg(&r->refs, old, old + 1);
    if (seen == old) return true;
    old = seen;
  }
  return false;
}
inline bool refcount_dec_and_test(refcount_t* r) { return atomic_dec_and_test(&r->refs); }

#undef ATOMIC_OP_POINT

}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_ATOMIC_H_
