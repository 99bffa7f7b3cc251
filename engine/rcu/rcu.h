// SPDX-License-Identifier: MIT
// Two RCU domains on the virtual machine (include/linux/rcupdate.h,
// rcupdate_trace.h, kernel/rcu/).
//
// Regular RCU. Readers: rcu_read_lock() sections, and (consolidated flavour)
// any region with preemption, softirqs or IRQs off. Readers are preemptible
// (CONFIG_PREEMPT_RCU) but may not sleep (context-violation).
//
// RCU Tasks Trace. Readers: rcu_read_lock_trace() sections, which may sleep;
// sleepable BPF programs run inside one. Not a regular reader.
//
// Grace periods. Each domain has a housekeeping GP kthread. When callbacks
// or synchronize_*() callers are waiting it starts a GP: it snapshots the
// tasks that are inside a reader of its domain and blocks until each has
// left that section (its per-task quiescent-state counter moved). Then the
// GP ends, and callbacks queued before it started become ready. Every step
// of this is a scheduler choice, so the fuzzer decides how long a GP takes.
// With rcu_trace_implies_rcu_gp() (a setting, true upstream) a Tasks Trace
// GP also waits for the regular readers, so it implies a regular GP. The
// converse never holds.
//
// Callbacks run on the vCPU that queued them, in ksoftirqd/N with softirqs
// disabled (SRCU, under Tasks Trace since v7.0, also invokes them with BH
// disabled), oldest first.
//
// Tasks Trace on SRCU (settings.trace_gp_start): call_rcu_tasks_trace()
// takes the SRCU spinlock. Upstream before the fix ("v4") that lock is a
// spinlock_t and the GP is started right there, so a caller holding a raw
// lock (the scheduler's rq lock) gets invalid-wait-context (B3). With the
// fix ("v4-srcu-fix") the lock is raw and the GP is started from irq_work.
//
// Context rules: call_rcu*() are not NMI-safe (context-violation from NMI);
// synchronize_*() and rcu_barrier*() may sleep.
//
// TSan: a reader's unlock and call_rcu*() release the domain; the GP end
// acquires it and releases the GP; callbacks and synchronize_*() returns
// acquire the GP. So a free after a GP is ordered after every reader that
// ended before it, as the kernel guarantees.
#ifndef RECLAIMFUZZ_ENGINE_RCU_RCU_H_
#define RECLAIMFUZZ_ENGINE_RCU_RCU_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "engine/kernel/compiler.h"

namespace reclaimfuzz::sched {
class Scheduler;
}

namespace reclaimfuzz::kernel {

struct rcu_head {
  rcu_head* next = nullptr;
  void (*func)(rcu_head* head) = nullptr;
};
using rcu_callback_t = void (*)(rcu_head* head);

void rcu_read_lock();
void rcu_read_unlock();
bool rcu_read_lock_held();
void rcu_read_lock_trace();
void rcu_read_unlock_trace();
bool rcu_read_lock_trace_held();
// Either flavour (bpf_rcu_lock_held()).
bool bpf_rcu_lock_held();

void call_rcu(rcu_head* head, rcu_callback_t func);
void call_rcu_tasks_trace(rcu_head* head, rcu_callback_t func);
void synchronize_rcu();
void synchronize_rcu_tasks_trace();
void rcu_barrier();
void rcu_barrier_tasks_trace();
bool rcu_trace_implies_rcu_gp();

// Polled grace periods: a cookie, then whether a full GP has elapsed since.
unsigned long get_state_synchronize_rcu();
bool poll_state_synchronize_rcu(unsigned long cookie);
unsigned long get_state_synchronize_rcu_tasks_trace();
bool poll_state_synchronize_rcu_tasks_trace(unsigned long cookie);

namespace rcu_internal {
// The generic reclamation oracle's hook (check::NoteRcuDeref), installed by
// check::ResetOracles(): every rcu_dereference*() of the model reports what
// it obtained, as the real-tree shim's do.
extern void (*g_deref_hook)(const void* p, const char* what);
template <typename T>
inline T deref(T p, const char* what) {
  if (g_deref_hook != nullptr) g_deref_hook(p, what);
  return p;
}
}  // namespace rcu_internal
#define rcu_dereference(p) ::reclaimfuzz::kernel::rcu_internal::deref(smp_load_acquire(&(p)), "rcu_dereference(" #p ")")
#define rcu_dereference_check(p, c) \
  ::reclaimfuzz::kernel::rcu_internal::deref(smp_load_acquire(&(p)), "rcu_dereference(" #p ")")
#define rcu_dereference_protected(p, c) READ_ONCE(p)
#define rcu_access_pointer(p) READ_ONCE(p)
#define rcu_assign_pointer(p, v) smp_store_release(&(p), (v))
#define RCU_INIT_POINTER(p, v) WRITE_ONCE(p, v)

}  // namespace reclaimfuzz::kernel

namespace reclaimfuzz::rcu {

enum class Domain : uint8_t { kRcu = 0, kTasksTrace = 1 };
const char* DomainName(Domain d);

struct Settings {
  bool trace_implies_rcu_gp = true;
  // How call_rcu_tasks_trace() starts a grace period (B3).
  enum class TraceGpStart : uint8_t {
    kSrcuSpinlock,    // v4: SRCU spinlock_t taken, GP started in the caller
    kSrcuRawIrqWork,  // v4-srcu-fix: raw SRCU lock, GP started from irq_work
  };
  TraceGpStart trace_gp_start = TraceGpStart::kSrcuRawIrqWork;
};

// Starts an execution: forgets all readers, GPs and callbacks; spawns the
// GP kthreads and ksoftirqd/N. Call after the scheduler's Reset().
absl::Status Reset(sched::Scheduler& s, const Settings& settings);
const Settings& settings();
// Changes rcu_trace_implies_rcu_gp() for the execution just reset (before
// it runs): a program's configuration may override its variant's default.
void SetTraceImpliesRcuGp(bool implies);

// For oracles and tests.
struct Reader {
  int task;
  uint64_t since_step;
};
// Tasks inside a reader of `d` right now.
std::vector<Reader> ActiveReaders(Domain d);
// Grace periods of `d` completed so far this execution.
uint64_t CompletedGps(Domain d);
// The domain whose callback is running right now, or -1 (reports name the
// grace period a free waited for).
int InvokingDomain();
// The read sections the running context (task and interrupt depth) is
// inside: bit 0 regular RCU, bit 1 RCU Tasks Trace.
unsigned ReaderDomainsHere();
// Called when the running context leaves its outermost section of a domain
// (0 regular, 1 Tasks Trace): the generic reclamation oracle's hook.
void SetSectionEndHook(void (*hook)(int domain));
// Installs the hook every rcu_dereference*() of the model calls.
void SetDerefHook(void (*hook)(const void* p, const char* what));
// Callbacks queued and not yet invoked.
size_t PendingCallbacks(Domain d);
// No GP in progress or wanted, no callbacks pending.
bool Idle();

}  // namespace reclaimfuzz::rcu

#endif  // RECLAIMFUZZ_ENGINE_RCU_RCU_H_
