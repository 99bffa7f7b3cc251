// SPDX-License-Identifier: MIT
// The contexts BPF programs run in (docs/kernel-model.md §3), and the
// values they hold.
//
//   kTracing    kprobe/fentry/perf/tracepoint and struct_ops programs:
//               __bpf_prog_enter = rcu_read_lock() + migrate_disable(). Runs
//               in task, hardirq or NMI context (an interrupt program uses
//               this kind); IRQs stay as the traced site had them.
//   kSleepable  __bpf_prog_enter_sleepable_recur = rcu_read_lock_trace() +
//               migrate_disable() + might_fault(). Task context only; may
//               sleep (msleep_model); holds no regular RCU read lock.
//   kSyscall    map_{lookup,update,delete}_elem from the bpf() syscall:
//               rcu_read_lock() + migrate_disable(), process context.
//   kRqLocked   a program run with the scheduler's raw lock held (sched_ext
//               ops.exit_task under task_rq_lock()): raw_spin_lock_irqsave
//               of this CPU's rq->__lock around a kTracing program (B3).
//
// A program obtains values through the storage helpers (owners.h); it
// wraps each returned pointer in a ValueRef, which registers it with the
// reader-saw-freed oracle until the program ends, and reads and writes it
// through bpf_value_read/bpf_value_write, which check the object is live
// before touching it.
//
// Signal safety: entering and leaving a program allocates nothing, so
// interrupt programs use the same calls.
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_PROGRAM_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_PROGRAM_H_

#include <cstdint>

#include "engine/kernel/spinlock.h"
#include "engine/storage/bpf_local_storage.h"

namespace reclaimfuzz::storage {

enum class ProgKind : uint8_t { kTracing, kSleepable, kSyscall, kRqLocked };
const char* ProgKindName(ProgKind kind);

// struct rq (kernel/sched/sched.h): only its lock.
struct rq {
  kernel::raw_spinlock_t lock_;  // rq->__lock
};
rq* this_rq();

struct ProgState {
  ProgKind kind = ProgKind::kTracing;
  kernel::irqflags_t rq_flags = 0;
  rq* rq = nullptr;  // kRqLocked: the rq locked at entry
};

void bpf_prog_enter(ProgKind kind, ProgState* state);
void bpf_prog_exit(const ProgState& state);
// The verifier's hidden gfp argument of the storage helpers.
gfp_t bpf_prog_gfp(ProgKind kind);

// Runs body() as a program of `kind` in the current context.
template <typename Body>
void RunBpfProgram(ProgKind kind, Body&& body) {
  ProgState state;
  bpf_prog_enter(kind, &state);
  body();
  bpf_prog_exit(state);
}

// A map value a program holds: the helper's return and the object it lies in.
struct ValueRef {
  void* data = nullptr;
  int64_t id = -1;  // slab id of the selem
  explicit operator bool() const { return data != nullptr; }
};

// Wraps a helper's return value (NULL gives an empty ref).
ValueRef bpf_value_ref(void* data);
u64 bpf_value_read(const ValueRef& v, u32 word);
void bpf_value_write(const ValueRef& v, u32 word, u64 x);
// bpf_kptr_xchg() of a freshly allocated object into the value's kptr
// field; the old object, if any, is released.
void bpf_value_kptr_xchg_new(const ValueRef& v);

namespace program {
// Starts an execution: initializes the per-CPU rq locks.
void Reset();
}  // namespace program

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_PROGRAM_H_
