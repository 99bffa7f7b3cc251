// SPDX-License-Identifier: MIT
#include "engine/storage/program.h"

#include "engine/check/reclaim.h"
#include "engine/kernel/context.h"
#include "engine/kernel/percpu.h"

namespace reclaimfuzz::storage {
namespace {

DEFINE_PER_CPU(rq, runqueues);

}  // namespace

const char* ProgKindName(ProgKind kind) {
  switch (kind) {
    case ProgKind::kTracing:
      return "tracing";
    case ProgKind::kSleepable:
      return "sleepable";
    case ProgKind::kSyscall:
      return "syscall";
    case ProgKind::kRqLocked:
      return "rq-locked";
  }
  return "?";
}

rq* this_rq() { return kernel::this_cpu_ptr(&runqueues); }

void bpf_prog_enter(ProgKind kind, ProgState* state) {
  state->kind = kind;
  switch (kind) {
    case ProgKind::kRqLocked:
      // IRQs off first, then this CPU's rq: the task cannot move between
      // choosing the rq and locking it (task_rq_lock() retries instead).
      local_irq_save(state->rq_flags);
      state->rq = this_rq();
      kernel::raw_spin_lock(&state->rq->lock_);
      [[fallthrough]];
    case ProgKind::kTracing:
    case ProgKind::kSyscall:
      kernel::rcu_read_lock();
      kernel::migrate_disable();
      return;
    case ProgKind::kSleepable:
      kernel::rcu_read_lock_trace();
      kernel::migrate_disable();
      kernel::might_sleep("might_fault()");
      return;
  }
}

void bpf_prog_exit(const ProgState& state) {
  check::NoteReaderDone();
  switch (state.kind) {
    case ProgKind::kTracing:
    case ProgKind::kSyscall:
    case ProgKind::kRqLocked:
      kernel::migrate_enable();
      kernel::rcu_read_unlock();
      if (state.kind == ProgKind::kRqLocked) {
        kernel::raw_spin_unlock_irqrestore(&state.rq->lock_, state.rq_flags);
      }
      return;
    case ProgKind::kSleepable:
      kernel::migrate_enable();
      kernel::rcu_read_unlock_trace();
      return;
  }
}

gfp_t bpf_prog_gfp(ProgKind kind) { return kind == ProgKind::kSleepable ? kernel::GFP_KERNEL : kernel::GFP_ATOMIC; }

ValueRef bpf_value_ref(void* data) {
  ValueRef v;
  if (data == nullptr) return v;
  v.data = data;
  bpf_local_storage_elem* selem = SELEM(container_of(static_cast<u8*>(data), bpf_local_storage_data, data));
  v.id = check::NoteReaderGot(selem, "bpf_*_storage_get() value");
  return v;
}

u64 bpf_value_read(const ValueRef& v, u32 word) {
  check::NoteReaderAccess(v.id, "reads");
  return READ_ONCE(static_cast<u64*>(v.data)[word]);
}

void bpf_value_write(const ValueRef& v, u32 word, u64 x) {
  check::NoteReaderAccess(v.id, "writes");
  WRITE_ONCE(static_cast<u64*>(v.data)[word], x);
}

void bpf_value_kptr_xchg_new(const ValueRef& v) {
  check::NoteReaderAccess(v.id, "exchanges the kptr of");
  void* obj = kernel::kmalloc_nolock(16, kernel::__GFP_ZERO, kernel::NUMA_NO_NODE, "kptr object");
  if (obj == nullptr) return;
  const u64 old = xchg(&static_cast<u64*>(v.data)[kKptrWord], reinterpret_cast<u64>(obj));
  if (old != 0) kernel::kfree_nolock(reinterpret_cast<void*>(old));  // the program releases it
}

namespace program {

void Reset() {
  for (int c = 0; c < sched::kMaxVcpus; ++c) {
    kernel::raw_spin_lock_init(&kernel::per_cpu_ptr(&runqueues, c)->lock_, "rq->__lock");
  }
}

}  // namespace program
}  // namespace reclaimfuzz::storage
