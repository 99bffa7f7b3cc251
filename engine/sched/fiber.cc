// SPDX-License-Identifier: MIT
#include "engine/sched/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/sched/coverage.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RF_TSAN 1
#endif
#endif

#ifdef RF_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef RF_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// The switch code must not be TSan-instrumented: it runs half on one stack
// and half on another, and its bookkeeping is not model memory. Nor
// ASan-instrumented: ASan would call __asan_handle_no_return before every
// __builtin_longjmp and unpoison the stack it thinks is being unwound (a
// sigaltstack call and a large memset per switch), while a fiber switch
// unwinds nothing: the frames it leaves are resumed later. Nor in the
// fuzzer's coverage (engine/sched/coverage.h): whether a fiber starts fresh
// or resumes depends on the stacks earlier inputs left, not on this input.
#define RF_SWITCH_FN __attribute__((no_sanitize("thread", "address", "coverage"), noinline))

namespace reclaimfuzz::sched {
namespace {

// The main context of this OS thread: the scheduler loop.
thread_local JumpBuf g_main_jmp;
thread_local Fiber* g_current = nullptr;
[[maybe_unused]] thread_local const void* g_main_stack_bottom = nullptr;
[[maybe_unused]] thread_local size_t g_main_stack_size = 0;
[[maybe_unused]] thread_local void* g_main_fake_stack = nullptr;
[[maybe_unused]] thread_local void* g_main_tsan_fiber = nullptr;

}  // namespace

Fiber* Fiber::Current() { return g_current; }

Fiber::~Fiber() {
#ifdef RF_TSAN
  if (tsan_fiber_ != nullptr) __tsan_destroy_fiber(tsan_fiber_);
#endif
  if (map_ != nullptr) munmap(map_, map_size_);
}

RF_NO_COVERAGE absl::Status Fiber::Init(const char* name, size_t stack_size) {
  if (stack_ != nullptr) return absl::FailedPreconditionError("fiber already initialized");
  if (stack_size < 64 * 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("fiber stack of ", stack_size, " bytes is below the 64 KiB minimum"));
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  stack_size = (stack_size + page - 1) / page * page;
  map_size_ = stack_size + page;
  map_ = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    return absl::ResourceExhaustedError(absl::StrCat("mmap of fiber stack: ", strerror(errno)));
  }
  // Guard page below the stack: an overflow faults instead of corrupting.
  mprotect(map_, page, PROT_NONE);
  stack_ = static_cast<char*>(map_) + page;
  stack_size_ = stack_size;
  name_ = name;
#ifdef RF_TSAN
  tsan_fiber_ = __tsan_create_fiber(0);
  __tsan_set_fiber_name(tsan_fiber_, name_);
#endif
  return absl::OkStatus();
}

void Fiber::Arm(Entry entry, void* arg) {
  entry_ = entry;
  arg_ = arg;
  running_ = true;
}

RF_SWITCH_FN void Fiber::Enter() {
  g_current = this;
#ifdef RF_ASAN
  __sanitizer_start_switch_fiber(&g_main_fake_stack, stack_, stack_size_);
#endif
#ifdef RF_TSAN
  if (g_main_tsan_fiber == nullptr) g_main_tsan_fiber = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(tsan_fiber_, __tsan_switch_to_fiber_no_sync);
#endif
  if (__builtin_setjmp(g_main_jmp) == 0) {
    if (!started_) {
      // First entry (made lazily: a fiber armed but never entered costs
      // nothing): runs Trampoline on the new stack.
      started_ = true;
      getcontext(&uc_);
      uc_.uc_stack.ss_sp = stack_;
      uc_.uc_stack.ss_size = stack_size_;
      uc_.uc_link = nullptr;
      makecontext(&uc_, &Fiber::Trampoline, 0);
      setcontext(&uc_);
    }
    __builtin_longjmp(jmp_, 1);
  }
  // Back in the main context.
#ifdef RF_ASAN
  __sanitizer_finish_switch_fiber(g_main_fake_stack, nullptr, nullptr);
#endif
  g_current = nullptr;
}

RF_SWITCH_FN void Fiber::Trampoline() {
  Fiber* self = g_current;
#ifdef RF_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &g_main_stack_bottom, &g_main_stack_size);
#endif
  self->Loop();
  __builtin_unreachable();
}

RF_NO_COVERAGE void Fiber::Loop() {
  for (;;) {
    if (running_) {
      in_entry_ = true;
      entry_(arg_);
      in_entry_ = false;
      running_ = false;
    }
    SwitchToMain();
  }
}

RF_SWITCH_FN void Fiber::SwitchToMain() {
#ifdef RF_ASAN
  __sanitizer_start_switch_fiber(&asan_fake_stack_, g_main_stack_bottom, g_main_stack_size);
#endif
#ifdef RF_TSAN
  __tsan_switch_to_fiber(g_main_tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
  if (__builtin_setjmp(jmp_) == 0) __builtin_longjmp(g_main_jmp, 1);
#ifdef RF_ASAN
  __sanitizer_finish_switch_fiber(asan_fake_stack_, &g_main_stack_bottom, &g_main_stack_size);
#endif
}

RF_SWITCH_FN void Fiber::Abandon() {
  started_ = false;
  running_ = false;
  in_entry_ = false;
#ifdef RF_ASAN
  // Frames left on the stack keep their redzones; a restart must not trip on them.
  __asan_unpoison_memory_region(stack_, stack_size_);
#endif
#ifdef RF_TSAN
  // The TSan shadow stack still holds the abandoned frames: start afresh.
  __tsan_destroy_fiber(tsan_fiber_);
  tsan_fiber_ = __tsan_create_fiber(0);
  __tsan_set_fiber_name(tsan_fiber_, name_);
#endif
}

RF_SWITCH_FN void Fiber::ExitToMain() {
#ifdef RF_ASAN
  // nullptr: this fiber's frames are being thrown away.
  __sanitizer_start_switch_fiber(nullptr, g_main_stack_bottom, g_main_stack_size);
#endif
#ifdef RF_TSAN
  __tsan_switch_to_fiber(g_main_tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
  __builtin_longjmp(g_main_jmp, 1);
}

}  // namespace reclaimfuzz::sched
