// SPDX-License-Identifier: MIT
// Fibers: one OS thread, many stacks.
//
// Each virtual task of the engine runs on a Fiber. A fiber is created once
// (stack mapped, context made with makecontext) and then entered and left with
// the compiler's __builtin_setjmp/__builtin_longjmp: like _setjmp/_longjmp
// they save only registers (no sigprocmask, unlike swapcontext's ~450 ns),
// and unlike libc's they are not intercepted by ASan, whose longjmp hook
// would unpoison the whole "unwound" stack on every switch (2 us a round
// trip) although a fiber switch unwinds nothing. Only the very first entry,
// or the entry after an execution abandoned the fiber mid-run, goes through
// setcontext.
//
// Concurrency contract: every fiber switch goes through the thread's main
// context (the scheduler loop): main -> fiber -> main. Fibers never switch to
// each other directly. All switches are annotated for the sanitizers:
//   ASan: __sanitizer_start_switch_fiber before, __sanitizer_finish_switch_fiber
//         after, paired on every path including first entry and the way back.
//   TSan: __tsan_switch_to_fiber(..., __tsan_switch_to_fiber_no_sync), so no
//         happens-before edge is implied by a switch and ThreadSanitizer reports
//         races between tasks although they share one OS thread.
// The switch code itself is not TSan-instrumented (see sanitizers/).
#ifndef RECLAIMFUZZ_ENGINE_SCHED_FIBER_H_
#define RECLAIMFUZZ_ENGINE_SCHED_FIBER_H_

#include <ucontext.h>

#include <csetjmp>
#include <cstddef>

#include "absl/status/status.h"

namespace reclaimfuzz::sched {

// Buffer of __builtin_setjmp: frame pointer, resume address, stack pointer,
// and two words the compiler may use.
using JumpBuf = void* [5];

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  // Default stack: large enough for the model under ASan (frames grow ~3x).
  static constexpr size_t kDefaultStackSize = 512 * 1024;

  Fiber() = default;
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Maps the stack (with a guard page). Call once.
  absl::Status Init(const char* name, size_t stack_size = kDefaultStackSize);

  // Arms the fiber to call entry(arg) the next time it is entered. The fiber
  // must be idle (never started, finished its last entry, or abandoned).
  void Arm(Entry entry, void* arg);

  // From the main context: run the fiber until it calls SwitchToMain().
  void Enter();

  // From inside this fiber: go back to the main context. Returns when the
  // main context enters the fiber again.
  void SwitchToMain();

  // From the main context, after a fiber was left for good in the middle of
  // its entry (its stack frames are garbage): forget them so Arm() can
  // restart it from the top.
  void Abandon();

  // From inside this fiber (possibly inside a signal handler running on its
  // stack): leave for good, back to the main context, which then must call
  // Abandon() before this fiber is armed again.
  [[noreturn]] void ExitToMain();

  // Makes an idle-or-abandoned fiber armable again: a fiber left in the
  // middle of its entry is abandoned; an armed one that never ran is disarmed.
  void Reclaim() {
    if (in_entry_) {
      Abandon();
    } else {
      running_ = false;
    }
  }

  // True while the entry function has been armed and not returned.
  bool running() const { return running_; }
  // True while the entry function is on the stack.
  bool in_entry() const { return in_entry_; }
  bool initialized() const { return stack_ != nullptr; }
  const char* name() const { return name_; }

  // The fiber currently executing, or nullptr in the main context.
  static Fiber* Current();

 private:
  static void Trampoline();
  void Loop();

  const char* name_ = "";
  void* map_ = nullptr;  // mapping including the guard page
  size_t map_size_ = 0;
  char* stack_ = nullptr;  // lowest usable address
  size_t stack_size_ = 0;
  ucontext_t uc_{};
  JumpBuf jmp_{};
  bool started_ = false;   // Loop() is live on the stack
  bool running_ = false;   // an entry is armed and has not returned
  bool in_entry_ = false;  // the entry function is on the stack
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  [[maybe_unused]] void* tsan_fiber_ = nullptr;
  [[maybe_unused]] void* asan_fake_stack_ = nullptr;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_FIBER_H_
