// SPDX-License-Identifier: MIT
// ThreadSanitizer annotations for the shim's synchronization primitives.
// Locks, RCU grace periods and work handoff tell TSan the happens-before
// edges they create; fiber switches create none.
#ifndef RECLAIMFUZZ_ENGINE_SCHED_TSAN_ANNOTATIONS_H_
#define RECLAIMFUZZ_ENGINE_SCHED_TSAN_ANNOTATIONS_H_

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RF_SCHED_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
#endif

namespace reclaimfuzz::tsan {

inline void Acquire(const void* addr) {
#ifdef RF_SCHED_TSAN
  __tsan_acquire(const_cast<void*>(addr));
#else
  (void)addr;
#endif
}

inline void Release(const void* addr) {
#ifdef RF_SCHED_TSAN
  __tsan_release(const_cast<void*>(addr));
#else
  (void)addr;
#endif
}

#ifdef RF_SCHED_TSAN
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

// Accesses between IgnoreBegin() and IgnoreEnd() on this fiber are not
// checked: for engine callbacks written outside the engine's folders (choice
// sources of tests and harnesses), which are machinery, not model.
inline void IgnoreBegin() {
#ifdef RF_SCHED_TSAN
  __tsan_ignore_thread_begin();
#endif
}
inline void IgnoreEnd() {
#ifdef RF_SCHED_TSAN
  __tsan_ignore_thread_end();
#endif
}

}  // namespace reclaimfuzz::tsan

#endif  // RECLAIMFUZZ_ENGINE_SCHED_TSAN_ANNOTATIONS_H_
