// SPDX-License-Identifier: MIT
// The rf_* hooks of include/rf_hooks.h: what a real tree's code, compiled
// against the shim, calls to reach the virtual machine. Each hook maps one
// kernel primitive onto engine/kernel, engine/rcu or engine/sched, so real
// code and the model share the scheduler, the lock and context rules, the
// allocator registry and the oracles.
#include "engine/linux/runtime.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/check/reclaim.h"
#include "engine/kernel/context.h"
#include "engine/kernel/irq_work.h"
#include "engine/kernel/list.h"
#include "engine/kernel/lockdep.h"
#include "engine/kernel/rqspinlock.h"
#include "engine/kernel/slab.h"
#include "engine/kernel/spinlock.h"
#include "engine/kernel/workqueue.h"
#include "engine/linux/include/rf_hooks.h"
#include "engine/linux/tree.h"
#include "engine/rcu/rcu.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"

// The per-CPU section of every tree linked into this binary (DEFINE_PER_CPU
// in rf_shim.h); the anchor keeps it present in binaries without a tree.
__attribute__((section("rf_percpu"), used, aligned(64))) static char rf_percpu_anchor[64];
extern "C" char __start_rf_percpu[];
extern "C" char __stop_rf_percpu[];
// The trees' writable globals (tree_unit.c.in), restored every execution.
// Weak: a binary without trees has neither section (both bounds are null).
extern "C" __attribute__((weak)) char __start_rf_tree_data[];
extern "C" __attribute__((weak)) char __stop_rf_tree_data[];
extern "C" __attribute__((weak)) char __start_rf_tree_bss[];
extern "C" __attribute__((weak)) char __stop_rf_tree_bss[];
// The trees' initcalls (late_initcall() and friends in rf_shim.h), run every
// execution once the globals are restored. Weak: a binary whose trees have
// none has no such section.
using RfInitcall = int (*)(void);
extern "C" __attribute__((weak)) const RfInitcall __start_rf_initcall[];
extern "C" __attribute__((weak)) const RfInitcall __stop_rf_initcall[];

// The shim's irq_work and work_struct are the machine's (rf_hooks.h).
static_assert(sizeof(llist_node) == sizeof(reclaimfuzz::kernel::llist_node));
static_assert(sizeof(irq_work) == sizeof(reclaimfuzz::kernel::irq_work));
static_assert(offsetof(irq_work, llnode) == offsetof(reclaimfuzz::kernel::irq_work, llnode));
static_assert(offsetof(irq_work, rf_pending) == offsetof(reclaimfuzz::kernel::irq_work, pending));
static_assert(offsetof(irq_work, func) == offsetof(reclaimfuzz::kernel::irq_work, func));
static_assert(sizeof(work_struct) == sizeof(reclaimfuzz::kernel::work_struct));
static_assert(offsetof(work_struct, func) == offsetof(reclaimfuzz::kernel::work_struct, func));
static_assert(offsetof(work_struct, rf_next) == offsetof(reclaimfuzz::kernel::work_struct, next));
static_assert(offsetof(work_struct, rf_pending) == offsetof(reclaimfuzz::kernel::work_struct, pending));

namespace reclaimfuzz::linux_tree {
namespace {

using sched::PointKind;
using sched::Scheduler;

struct RuntimeState {
  char* percpu[sched::kMaxVcpus] = {};
  size_t percpu_size = 0;
  int num_cpus = sched::kMaxVcpus;  // the execution's vCPUs (ResetRuntime)
  char* pristine_data = nullptr;    // the trees' .data before any execution
  bool alloc_failure = false;
  void* const* tasks = nullptr;
  int ntasks = 0;
};

RuntimeState& St() {
  static RuntimeState* s = new RuntimeState();  // never destroyed: used until exit
  return *s;
}

Scheduler* S() { return Scheduler::Current(); }

// Copies without instrumentation: the pristine section has ASan redzones
// between its variables, and ASan's memcpy()/memset() interceptors would
// check them. On x86-64 a string instruction (every execution restores
// tens of kilobytes: a byte loop was a tenth of a release execution);
// elsewhere a volatile byte loop, which the compiler cannot turn into a
// call.
__attribute__((no_sanitize("address", "thread"))) void CopyBytes(char* dst, const char* src, size_t n) {
#if defined(__x86_64__)
  asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
  volatile char* d = dst;
  for (size_t i = 0; i < n; ++i) d[i] = src[i];
#endif
}

__attribute__((no_sanitize("address", "thread"))) void ZeroBytes(char* dst, size_t n) {
#if defined(__x86_64__)
  asm volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
#else
  volatile char* d = dst;
  for (size_t i = 0; i < n; ++i) d[i] = 0;
#endif
}

kernel::raw_spinlock_t* Raw(raw_spinlock* l) {
  static_assert(sizeof(kernel::raw_spinlock_t) <= 4 * sizeof(unsigned long));
  auto* k = reinterpret_cast<kernel::raw_spinlock_t*>(l);
  if (k->name == nullptr) {  // statically initialized: all zero
    k->name = "raw_spinlock";
    k->wait_type = kernel::LD_WAIT_SPIN;
    k->owner_task = -1;
  }
  return k;
}

kernel::spinlock_t* Sleeping(spinlock* l) {
  static_assert(sizeof(kernel::spinlock_t) <= 4 * sizeof(unsigned long));
  auto* k = reinterpret_cast<kernel::spinlock_t*>(l);
  if (k->rlock.name == nullptr) {
    k->rlock.name = "spinlock";
    k->rlock.wait_type = kernel::LD_WAIT_CONFIG;
    k->rlock.owner_task = -1;
  }
  return k;
}

// The object kind each allocating kernel function makes, for reports.
const char* TypeOf(const char* site) {
  static constexpr struct {
    const char* site;
    const char* type;
  } kTypes[] = {
      {"bpf_selem_alloc", "bpf_local_storage_elem"},
      {"bpf_local_storage_alloc", "bpf_local_storage"},
      {"bpf_local_storage_map_alloc", "bpf_local_storage_map"},
      {"rf_task_alloc", "task_struct"},
  };
  for (const auto& t : kTypes) {
    if (strcmp(t.site, site) == 0) return t.type;
  }
  return "object";
}

void MaySleep(unsigned gfp, const char* what) {
  if (!(gfp & RF_GFP_KERNEL)) return;
  kernel::might_sleep(what);
  kernel::preemption_point(PointKind::kResched, what);
}

void KfreeRcuCallback(kernel::rcu_head* head) {
  const int64_t id = kernel::slab::IdContaining(head);
  const kernel::slab::Object* o = kernel::slab::Get(id);
  if (o == nullptr) check::Report(check::kUseAfterFree, -1, "kfree_rcu() callback on memory that is not live");
  kernel::kfree(o->ptr, "kfree_rcu");
}

}  // namespace

void ResetRuntime(int num_vcpus) {
  RuntimeState& st = St();
  const size_t size = static_cast<size_t>(__stop_rf_percpu - __start_rf_percpu);
  if (st.percpu_size != size) {
    for (char*& c : st.percpu) {
      free(c);
      void* p = nullptr;
      if (posix_memalign(&p, 64, size) != 0) abort();
      c = static_cast<char*>(p);
    }
    st.percpu_size = size;
  }
  // The execution's CPUs only: per_cpu_ptr() of any other is refused (the
  // trees see rf_nr_cpus() == num_vcpus possible CPUs).
  st.num_cpus = std::clamp(num_vcpus, 1, sched::kMaxVcpus);
  for (int c = 0; c < st.num_cpus; ++c) CopyBytes(st.percpu[c], __start_rf_percpu, size);
  const size_t data = static_cast<size_t>(__stop_rf_tree_data - __start_rf_tree_data);
  if (st.pristine_data == nullptr) {
    st.pristine_data = static_cast<char*>(malloc(data + 1));
    CopyBytes(st.pristine_data, __start_rf_tree_data, data);
  }
  CopyBytes(__start_rf_tree_data, st.pristine_data, data);
  ZeroBytes(__start_rf_tree_bss, static_cast<size_t>(__stop_rf_tree_bss - __start_rf_tree_bss));
  // As at boot: the trees' initcalls, outside any task (their marked
  // accesses are not preemption points), on the restored globals.
  for (const RfInitcall* f = __start_rf_initcall; f != nullptr && f < __stop_rf_initcall; ++f) (*f)();
  (void)rf_percpu_anchor;
}

void SetAllocationFailure(bool on) { St().alloc_failure = on; }

void SetTaskTable(void* const* tasks, int n) {
  St().tasks = tasks;
  St().ntasks = n;
}

bool AllocationMayFail(const char* what) {
  if (!St().alloc_failure) return false;
  sched::Scheduler* s = S();
  return s != nullptr && s->current_task() >= 0 && s->FailPoint(what);
}

}  // namespace reclaimfuzz::linux_tree

using namespace reclaimfuzz;  // NOLINT: the hooks are C functions
using linux_tree::S;
using sched::Scheduler;

extern "C" {

void* rf_task_by_index(int index) {
  const auto& st = linux_tree::St();
  return index >= 0 && index < st.ntasks ? __atomic_load_n(&st.tasks[index], __ATOMIC_ACQUIRE) : nullptr;
}

int rf_task_count(void) { return linux_tree::St().ntasks; }

void rf_point_in(int kind, const char* label, const char* func) {
  kernel::preemption_point(static_cast<sched::PointKind>(kind), label, func);
}
void rf_cond_resched(void) { kernel::preemption_point(sched::PointKind::kResched, "cond_resched"); }
void rf_might_sleep(const char* what) {
  kernel::might_sleep(what);
  kernel::preemption_point(sched::PointKind::kResched, what);
}
void rf_warn(const char* cond, const char* file, int line) {
  // A WARN in the kernel is a bug report with a stack, not a crash: the
  // execution stops with a finding so that it is seen and replayable.
  check::Report("kernel-warning", -1, "WARNING at %s:%d: %s", file, line, cond);
}
void rf_bug(const char* cond, const char* file, int line) {
  check::Report("kernel-bug", -1, "BUG at %s:%d: %s", file, line, cond);
}
void rf_list_corruption(const char* what, const void* node) {
  check::Report(check::kListCorruption, kernel::slab::IdContaining(node), "list_debug: %s", what);
}
void rf_list_check_live(const void* p, const char* what) { kernel::internal::node_check_live(p, what); }
void rf_hlist_check_add_first(const void* first, void* const* first_pprev, const void* head_first) {
  // As engine/kernel/list.h's hlist_add_check_first(); plain loads, no
  // preemption point between the check and the store.
  kernel::internal::node_check_live(first, "hlist_add_head: the old first node");
  if (kernel::slab::IdContaining(first) < 0) return;  // not heap memory: nothing to check
  void* pprev = __atomic_load_n(first_pprev, __ATOMIC_RELAXED);
  if (pprev == head_first) return;
  if (pprev != nullptr && pprev != reinterpret_cast<void*>(0x122) /* LIST_POISON2 */ &&
      kernel::slab::IdContaining(pprev) >= 0 &&
      __atomic_load_n(static_cast<void* const*>(pprev), __ATOMIC_RELAXED) == first) {
    return;
  }
  rf_list_corruption(
      "hlist_add_head: the old first node left the list during the add (an unserialized "
      "writer ran in between); storing into its pprev would corrupt what now uses its memory",
      first);
}

int rf_cpu(void) { return kernel::smp_processor_id(); }
int rf_nr_cpus(void) {
  sched::Scheduler* s = S();
  return s != nullptr ? s->num_vcpus() : 1;
}
void rf_preempt_disable(void) { kernel::preempt_disable(); }
void rf_preempt_enable(void) { kernel::preempt_enable(); }
void rf_migrate_disable(void) { kernel::migrate_disable(); }
void rf_migrate_enable(void) { kernel::migrate_enable(); }
unsigned long rf_local_irq_save(void) { return kernel::local_irq_save_impl(); }
void rf_local_irq_restore(unsigned long flags) { kernel::local_irq_restore(flags); }
bool rf_in_nmi(void) { return kernel::in_nmi(); }
bool rf_in_hardirq(void) { return kernel::in_hardirq(); }
bool rf_in_task(void) { return kernel::in_task(); }
bool rf_irqs_disabled(void) { return kernel::irqs_disabled(); }

void* rf_per_cpu_ptr(const void* p, int cpu) {
  const char* c = static_cast<const char*>(p);
  auto& st = linux_tree::St();
  if (c < __start_rf_percpu || c >= __stop_rf_percpu || cpu < 0 || cpu >= st.num_cpus || st.percpu[cpu] == nullptr) {
    fprintf(stderr, "reclaimfuzz: per_cpu_ptr(%p, %d) outside the per-CPU section or the %d CPUs of the execution\n", p,
            cpu, st.num_cpus);
    abort();
  }
  return st.percpu[cpu] + (c - __start_rf_percpu);
}

unsigned long long rf_stable_address(const void* p) {
  const int64_t id = kernel::slab::IdContaining(p);
  const kernel::slab::Object* o = kernel::slab::Get(id);
  if (o == nullptr) return reinterpret_cast<uintptr_t>(p);
  return (static_cast<unsigned long long>(id + 1) << 20) +
         static_cast<unsigned long long>(static_cast<const char*>(p) - static_cast<const char*>(o->ptr));
}

void rf_rcu_read_lock(void) { kernel::rcu_read_lock(); }
void rf_rcu_read_unlock(void) { kernel::rcu_read_unlock(); }
void rf_rcu_read_lock_trace(void) { kernel::rcu_read_lock_trace(); }
void rf_rcu_read_unlock_trace(void) { kernel::rcu_read_unlock_trace(); }
bool rf_rcu_read_lock_held(void) { return kernel::rcu_read_lock_held(); }
bool rf_rcu_read_lock_trace_held(void) { return kernel::rcu_read_lock_trace_held(); }
bool rf_bpf_rcu_lock_held(void) { return kernel::bpf_rcu_lock_held(); }
void* rf_rcu_deref(void* p, const char* what) {
  check::NoteRcuDeref(p, what);
  return p;
}
void rf_call_rcu(struct rcu_head* head, void (*fn)(struct rcu_head*)) {
  kernel::call_rcu(reinterpret_cast<kernel::rcu_head*>(head), reinterpret_cast<kernel::rcu_callback_t>(fn));
}
void rf_call_rcu_tasks_trace(struct rcu_head* head, void (*fn)(struct rcu_head*)) {
  kernel::call_rcu_tasks_trace(reinterpret_cast<kernel::rcu_head*>(head), reinterpret_cast<kernel::rcu_callback_t>(fn));
}
void rf_synchronize_rcu(void) { kernel::synchronize_rcu(); }
void rf_synchronize_rcu_tasks_trace(void) { kernel::synchronize_rcu_tasks_trace(); }
void rf_rcu_barrier(void) { kernel::rcu_barrier(); }
void rf_rcu_barrier_tasks_trace(void) { kernel::rcu_barrier_tasks_trace(); }
bool rf_rcu_trace_implies_rcu_gp(void) { return kernel::rcu_trace_implies_rcu_gp(); }
void rf_kfree_rcu(void* obj, struct rcu_head* head) {
  (void)obj;
  kernel::call_rcu(reinterpret_cast<kernel::rcu_head*>(head), &linux_tree::KfreeRcuCallback);
}

bool rf_irq_work_queue(struct irq_work* work) {
  return kernel::irq_work_queue(reinterpret_cast<kernel::irq_work*>(work));
}
struct workqueue_struct* rf_system_wq(void) {
  return reinterpret_cast<struct workqueue_struct*>(kernel::system_wq);
}
bool rf_queue_work_on(int cpu, struct workqueue_struct* wq, struct work_struct* work) {
  return kernel::queue_work_on(cpu, reinterpret_cast<kernel::workqueue_struct*>(wq),
                               reinterpret_cast<kernel::work_struct*>(work));
}

void rf_raw_spin_lock_init(struct raw_spinlock* l, const char* name) {
  kernel::raw_spin_lock_init(reinterpret_cast<kernel::raw_spinlock_t*>(l), name);
}
void rf_spin_lock_init(struct spinlock* l, const char* name) {
  kernel::spin_lock_init(reinterpret_cast<kernel::spinlock_t*>(l), name);
}
unsigned long rf_raw_spin_lock_irqsave(struct raw_spinlock* l) {
  return kernel::raw_spin_lock_irqsave_impl(linux_tree::Raw(l));
}
void rf_raw_spin_unlock_irqrestore(struct raw_spinlock* l, unsigned long flags) {
  kernel::raw_spin_unlock_irqrestore(linux_tree::Raw(l), flags);
}
void rf_raw_spin_lock(struct raw_spinlock* l) { kernel::raw_spin_lock(linux_tree::Raw(l)); }
void rf_raw_spin_unlock(struct raw_spinlock* l) { kernel::raw_spin_unlock(linux_tree::Raw(l)); }
void rf_raw_spin_lock_bh(struct raw_spinlock* l) {
  kernel::local_bh_disable();
  kernel::raw_spin_lock(linux_tree::Raw(l));
}
void rf_raw_spin_unlock_bh(struct raw_spinlock* l) {
  kernel::raw_spin_unlock(linux_tree::Raw(l));
  kernel::local_bh_enable();
}
void rf_spin_lock(struct spinlock* l) { kernel::spin_lock(linux_tree::Sleeping(l)); }
void rf_spin_unlock(struct spinlock* l) { kernel::spin_unlock(linux_tree::Sleeping(l)); }

static kernel::rqspinlock_t* Res(struct rqspinlock* l) {
  static_assert(sizeof(kernel::rqspinlock_t) <= 4 * sizeof(unsigned long));
  auto* k = reinterpret_cast<kernel::rqspinlock_t*>(l);
  if (k->name == nullptr) {  // zero-initialized
    k->name = "rqspinlock";
    k->owner_task = -1;
  }
  return k;
}
void rf_res_spin_lock_init(struct rqspinlock* l, const char* name) {
  kernel::raw_res_spin_lock_init(reinterpret_cast<kernel::rqspinlock_t*>(l), name);
}
int rf_res_spin_lock_irqsave(struct rqspinlock* l, unsigned long* flags) {
  kernel::irqflags_t f = 0;
  const int r = kernel::raw_res_spin_lock_irqsave_impl(Res(l), &f);
  *flags = f;
  return r;
}
void rf_res_spin_unlock_irqrestore(struct rqspinlock* l, unsigned long flags) {
  kernel::raw_res_spin_unlock_irqrestore(Res(l), flags);
}
int rf_res_spin_lock(struct rqspinlock* l) { return kernel::res_spin_lock(Res(l)); }
void rf_res_spin_unlock(struct rqspinlock* l) { kernel::res_spin_unlock(Res(l)); }

void* rf_kmalloc(unsigned long size, unsigned int gfp, const char* site) {
  linux_tree::MaySleep(gfp, "kmalloc(GFP_KERNEL)");
  // GFP_ATOMIC/GFP_NOWAIT allocations fail under memory pressure; GFP_KERNEL
  // ones of these sizes retry and do not.
  if (!(gfp & RF_GFP_KERNEL) && linux_tree::AllocationMayFail("kmalloc may fail")) return nullptr;
  return kernel::kzalloc(size, kernel::GFP_ATOMIC, linux_tree::TypeOf(site), site);
}
void rf_kfree(const void* p, const char* site) {
  if (p != nullptr) kernel::kfree(p, site);
}
void* rf_kmalloc_nolock(unsigned long size, unsigned int gfp, const char* site) {
  if (linux_tree::AllocationMayFail("kmalloc_nolock may fail")) return nullptr;
  return kernel::kmalloc_nolock(size, kernel::__GFP_ZERO, kernel::NUMA_NO_NODE, linux_tree::TypeOf(site), site);
}
void rf_kfree_nolock(const void* p, const char* site) {
  if (p != nullptr) kernel::kfree_nolock(p, site);
}

}  // extern "C"
