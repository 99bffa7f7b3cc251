// SPDX-License-Identifier: MIT
#include "fuzz/interpreter.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/check/teardown.h"
#include "engine/kernel/context.h"
#include "engine/kernel/slab.h"
#include "engine/kernel/workqueue.h"
#include "engine/linux/runtime.h"
#include "engine/linux/trees.h"
#include "engine/rcu/rcu.h"
#include "engine/storage/execution.h"
#include "engine/storage/owners.h"
#include "engine/storage/program.h"
#include "engine/storage/world.h"
#include "engine/vm/machine.h"

namespace reclaimfuzz::fuzz {
namespace {

using storage::bpf_map;
using storage::u64;
using storage::ValueRef;

vm::Machine& TheMachine() {
  static vm::Machine* m = new vm::Machine();
  return *m;
}

// The objects of the running program (indices as in the Program).
struct Objects {
  bpf_map* maps[kMaxMaps] = {};
  Owner map_kind[kMaxMaps] = {};
  void* owners[kMaxOwners] = {};
  Owner owner_kind[kMaxOwners] = {};
  bool has_kptr[kMaxMaps] = {};
};
Objects g_obj;
const Program* g_prog = nullptr;

// The real tree of the running execution, or nullptr for the model.
const rf_tree* g_tree = nullptr;
// Per map: its map_free work (bpf_map_free_deferred) and whether an owner
// or map was already released (teardown releases the others).
struct TreeMapWork {
  kernel::work_struct work;
  void* map = nullptr;
};
TreeMapWork g_map_work[kMaxMaps];
bool g_owner_released[kMaxOwners];
void* g_live_tasks[kMaxOwners];  // pidfd i -> task i until it exits
bool g_map_released[kMaxMaps];

void TreeMapFreeWork(kernel::work_struct* w) {
  TreeMapWork* mw = reinterpret_cast<TreeMapWork*>(w);  // work is the first member
  g_tree->map_free(mw->map);
}

// Real trees: the kernel's lifetime rules, which the harness keeps
// (docs/kernel-model.md §3, "Owner lifetime").
//  - A task's exit unhashes it from the pid table and drops its RCU users
//    (put_task_struct_rcu_user(): call_rcu() of delayed_put_task_struct);
//    the exit waits for no program. Whoever drops the last reference to
//    the task (usage) runs __put_task_struct(): bpf_task_storage_free(),
//    then the task's memory, in its own context.
//  - Programs that run under rcu_read_lock() (tracing, interrupt,
//    rq-locked and syscall ones) reach a task only while it is in the pid
//    table, when they start (pid_task(), or the tree's own pidfd lookup for
//    the syscall ops) and hold no reference: the grace period after the
//    exit waits for them, not the exit. A sleepable program reaches a task
//    through a reference its caller holds (a task iterator's
//    get_pid_task(), put after the program), so the task's storage may be
//    freed in the caller's context, after the exit, when the program ends.
//  - map_free runs in a kworker once no program or syscall holds the map:
//    every program using it holds a reference (prog->aux->used_maps).
// The flags and the pid table are shared by every task of the execution
// (atomics: ThreadSanitizer sees each task as a thread).
void TreeReleaseOwner(int i) {
  if (__atomic_exchange_n(&g_owner_released[i], true, __ATOMIC_ACQ_REL)) return;
  __atomic_store_n(&g_live_tasks[i], nullptr, __ATOMIC_RELEASE);  // unhashed from the pid table at exit
  g_tree->task_release(g_obj.owners[i]);
}
void TreeReleaseMap(int i) {
  if (__atomic_exchange_n(&g_map_released[i], true, __ATOMIC_ACQ_REL)) return;
  TreeMapWork& mw = g_map_work[i];
  mw.map = g_obj.maps[i];
  kernel::INIT_WORK(&mw.work, &TreeMapFreeWork);
  kernel::queue_work_on(kernel::smp_processor_id(), kernel::system_wq, &mw.work);
}

// References. A running program that uses a map holds a reference to it,
// as the kernel's programs do (map refcounts). On the model, a program that
// uses an owner holds one to the owner too (a trusted or RCU-protected
// owner pointer, freed only after the programs that can reach it are gone:
// "No bpf prog (sleepable or not) can have a hold on this sk"); on a real
// tree, owners follow the task rules above instead. So map_free, and the
// model's owner destroy, never run under a program that uses them. Once a
// task releases a map or a model owner, later programs find it gone and
// skip their ops on it, and the release waits for the programs still
// running. Harness bookkeeping touched by every task: atomics, no
// preemption points.
struct Refs {
  int users = 0;
  int closed = 0;
};
Refs g_map_refs[kMaxMaps];
Refs g_owner_refs[kMaxOwners];

bool UsesMapAndOwner(const Op& op) {
  return op.kind == OpKind::kGet || op.kind == OpKind::kDelete || op.kind == OpKind::kLookup ||
         op.kind == OpKind::kUpdate || op.kind == OpKind::kSysDelete;
}

// The references a program took, and which of its ops may run. Plain
// bits: interrupt programs run in a signal handler, which must not touch
// the heap, and an execution stopped mid-program never unwinds its stack.
struct Held {
  unsigned maps = 0;
  unsigned owners = 0;  // on the model, references in g_owner_refs
  uint32_t runs = 0;    // bit i: ops[i] may run (kMaxOpsPerProg <= 32)
};
static_assert(kMaxOpsPerProg <= 32);

// The tasks a sleepable program's caller holds for it (real trees).
struct PinnedTasks {
  unsigned mask = 0;
  void* task[kMaxOwners] = {};
};

unsigned OwnersUsed(const OpVector& ops) {
  unsigned owners = 0;
  for (const Op& op : ops) {
    if (UsesMapAndOwner(op)) owners |= 1u << op.owner;
  }
  return owners;
}

// A sleepable program's caller takes a reference to each task it uses
// (get_pid_task(); a task that exited is not found) and drops it after the
// program (UnpinTasks()).
PinnedTasks PinTasks(const OpVector& ops) {
  PinnedTasks p;
  const unsigned used = OwnersUsed(ops);
  for (int i = 0; i < kMaxOwners; ++i) {
    if (!(used & (1u << i))) continue;
    if (void* t = g_tree->get_pid_task(i)) {
      p.mask |= 1u << i;
      p.task[i] = t;
    }
  }
  return p;
}

void UnpinTasks(const PinnedTasks& p) {
  for (int i = 0; i < kMaxOwners; ++i) {
    if (p.mask & (1u << i)) g_tree->put_task(p.task[i]);
  }
}

// The owners a program on a real tree reaches: a sleepable one those its
// caller pinned; one under rcu_read_lock() those still in the pid table
// when it starts (the syscall ops look the task up themselves, by pidfd).
unsigned TreeOwnersReached(unsigned used, ProgKind kind, unsigned pinned) {
  if (kind == ProgKind::kSleepable) return used & pinned;
  if (kind == ProgKind::kSyscall) return used;
  unsigned reached = 0;
  for (int i = 0; i < kMaxOwners; ++i) {
    if ((used & (1u << i)) && __atomic_load_n(&g_live_tasks[i], __ATOMIC_ACQUIRE) != nullptr) reached |= 1u << i;
  }
  return reached;
}

Held Acquire(const OpVector& ops, ProgKind kind, unsigned pinned) {
  Held h;
  for (const Op& op : ops) {
    if (!UsesMapAndOwner(op)) continue;
    h.maps |= 1u << op.map;
    h.owners |= 1u << op.owner;
  }
  auto take = [](Refs* refs, int n, unsigned& mask) {
    for (int i = 0; i < n; ++i) {
      if (!(mask & (1u << i))) continue;
      if (__atomic_load_n(&refs[i].closed, __ATOMIC_SEQ_CST)) {
        mask &= ~(1u << i);
      } else {
        __atomic_add_fetch(&refs[i].users, 1, __ATOMIC_SEQ_CST);
      }
    }
  };
  take(g_map_refs, kMaxMaps, h.maps);
  if (g_tree != nullptr) {
    h.owners = TreeOwnersReached(h.owners, kind, pinned);
  } else {
    take(g_owner_refs, kMaxOwners, h.owners);
  }
  for (size_t i = 0; i < ops.size() && i < 32; ++i) {
    const bool runs = !UsesMapAndOwner(ops[i]) || ((h.maps & (1u << ops[i].map)) && (h.owners & (1u << ops[i].owner)));
    if (runs) h.runs |= 1u << i;
  }
  return h;
}

void Release(const Held& h) {
  for (int i = 0; i < kMaxMaps; ++i) {
    if (h.maps & (1u << i)) __atomic_sub_fetch(&g_map_refs[i].users, 1, __ATOMIC_SEQ_CST);
  }
  for (int i = 0; g_tree == nullptr && i < kMaxOwners; ++i) {  // real trees take no owner references
    if (h.owners & (1u << i)) __atomic_sub_fetch(&g_owner_refs[i].users, 1, __ATOMIC_SEQ_CST);
  }
}

bool Unused(void* arg) { return __atomic_load_n(&static_cast<Refs*>(arg)->users, __ATOMIC_SEQ_CST) == 0; }

// Closes `r` to new programs and waits for the running ones; false if it
// was closed already.
bool CloseAndDrain(Refs* r, const char* what) {
  if (__atomic_exchange_n(&r->closed, 1, __ATOMIC_SEQ_CST)) return false;
  sched::Scheduler::Current()->WaitFor(&Unused, r, what);
  return true;
}

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "reclaimfuzz: interpreter: %s\n", what.c_str());
  abort();
}

storage::ProgKind ToStorage(ProgKind k) {
  switch (k) {
    case ProgKind::kTracing:
      return storage::ProgKind::kTracing;
    case ProgKind::kSleepable:
      return storage::ProgKind::kSleepable;
    case ProgKind::kSyscall:
      return storage::ProgKind::kSyscall;
    case ProgKind::kRqLocked:
      return storage::ProgKind::kRqLocked;
  }
  return storage::ProgKind::kTracing;
}

// The verifier gives tracing and sleepable programs the _recur helpers
// where the tree has them (bpf_prog_check_recur()); struct_ops programs
// such as sched_ext's (kRqLocked) get the plain ones.
bool Recur(ProgKind kind) { return g_tree->has_recur && kind != ProgKind::kRqLocked; }

// One helper call. `in_irq`: the program runs in a hardirq or NMI.
void* HelperGet(const Op& op, ProgKind kind, bool in_irq) {
  u64 value[kValueWords];
  for (u64& w : value) w = op.value;
  if (g_tree != nullptr) {
    const u64 flags = (op.flags & kFlagCreate) ? storage::BPF_LOCAL_STORAGE_GET_F_CREATE : 0;
    return g_tree->helper_get(g_obj.maps[op.map], g_obj.owners[op.owner], value, flags,
                              storage::bpf_prog_gfp(ToStorage(kind)), Recur(kind));
  }
  bpf_map* map = g_obj.maps[op.map];
  void* owner = g_obj.owners[op.owner];
  const u64 flags = (op.flags & kFlagCreate) ? storage::BPF_LOCAL_STORAGE_GET_F_CREATE : 0;
  const kernel::gfp_t gfp = storage::bpf_prog_gfp(ToStorage(kind));
  switch (g_obj.map_kind[op.map]) {
    case Owner::kTask:
      return storage::bpf_task_storage_get(map, static_cast<storage::task_struct*>(owner), value, flags, gfp);
    case Owner::kCgroup:
      return storage::bpf_cgrp_storage_get(map, static_cast<storage::cgroup*>(owner), value, flags, gfp);
    case Owner::kSk:
      // Tracing programs get the _tracing helpers, which refuse hardirq/NMI.
      if (kind == ProgKind::kSleepable) {
        return storage::bpf_sk_storage_get(map, static_cast<storage::sock*>(owner), value, flags, gfp);
      }
      return storage::bpf_sk_storage_get_tracing(map, static_cast<storage::sock*>(owner), value, flags, gfp);
    case Owner::kInode:
      if (in_irq) return nullptr;  // LSM programs run in task context
      return storage::bpf_inode_storage_get(map, static_cast<storage::inode*>(owner), value, flags, gfp);
  }
  return nullptr;
}

void HelperDelete(const Op& op, ProgKind kind, bool in_irq) {
  if (g_tree != nullptr) {
    g_tree->helper_delete(g_obj.maps[op.map], g_obj.owners[op.owner], Recur(kind));
    return;
  }
  bpf_map* map = g_obj.maps[op.map];
  void* owner = g_obj.owners[op.owner];
  switch (g_obj.map_kind[op.map]) {
    case Owner::kTask:
      storage::bpf_task_storage_delete(map, static_cast<storage::task_struct*>(owner));
      return;
    case Owner::kCgroup:
      storage::bpf_cgrp_storage_delete(map, static_cast<storage::cgroup*>(owner));
      return;
    case Owner::kSk:
      if (kind == ProgKind::kSleepable) {
        storage::bpf_sk_storage_delete(map, static_cast<storage::sock*>(owner));
      } else {
        storage::bpf_sk_storage_delete_tracing(map, static_cast<storage::sock*>(owner));
      }
      return;
    case Owner::kInode:
      if (!in_irq) storage::bpf_inode_storage_delete(map, static_cast<storage::inode*>(owner));
      return;
  }
}

void* SyscallLookup(const Op& op) {
  if (g_tree != nullptr) {
    long err = 0;
    return g_tree->lookup_elem(g_obj.maps[op.map], op.owner, &err);
  }
  bpf_map* map = g_obj.maps[op.map];
  void* owner = g_obj.owners[op.owner];
  switch (g_obj.map_kind[op.map]) {
    case Owner::kTask:
      return storage::bpf_pid_task_storage_lookup_elem(map, static_cast<storage::task_struct*>(owner));
    case Owner::kCgroup:
      return storage::bpf_cgrp_storage_lookup_elem(map, static_cast<storage::cgroup*>(owner));
    case Owner::kSk:
      return storage::bpf_fd_sk_storage_lookup_elem(map, static_cast<storage::sock*>(owner));
    case Owner::kInode:
      return storage::bpf_fd_inode_storage_lookup_elem(map, static_cast<storage::inode*>(owner));
  }
  return nullptr;
}

void SyscallUpdate(const Op& op) {
  u64 value[kValueWords];
  for (u64& w : value) w = op.value;
  u64 flags = op.flags & 3;
  if (op.flags & kFlagLock) flags |= storage::BPF_F_LOCK;
  if (g_tree != nullptr) {
    g_tree->update_elem(g_obj.maps[op.map], op.owner, value, flags);
    return;
  }
  bpf_map* map = g_obj.maps[op.map];
  void* owner = g_obj.owners[op.owner];
  switch (g_obj.map_kind[op.map]) {
    case Owner::kTask:
      storage::bpf_pid_task_storage_update_elem(map, static_cast<storage::task_struct*>(owner), value, flags);
      return;
    case Owner::kCgroup:
      storage::bpf_cgrp_storage_update_elem(map, static_cast<storage::cgroup*>(owner), value, flags);
      return;
    case Owner::kSk:
      storage::bpf_fd_sk_storage_update_elem(map, static_cast<storage::sock*>(owner), value, flags);
      return;
    case Owner::kInode:
      storage::bpf_fd_inode_storage_update_elem(map, static_cast<storage::inode*>(owner), value, flags);
      return;
  }
}

void SyscallDelete(const Op& op) {
  if (g_tree != nullptr) {
    g_tree->delete_elem(g_obj.maps[op.map], op.owner);
    return;
  }
  bpf_map* map = g_obj.maps[op.map];
  void* owner = g_obj.owners[op.owner];
  switch (g_obj.map_kind[op.map]) {
    case Owner::kTask:
      storage::bpf_pid_task_storage_delete_elem(map, static_cast<storage::task_struct*>(owner));
      return;
    case Owner::kCgroup:
      storage::bpf_cgrp_storage_delete_elem(map, static_cast<storage::cgroup*>(owner));
      return;
    case Owner::kSk:
      storage::bpf_fd_sk_storage_delete_elem(map, static_cast<storage::sock*>(owner));
      return;
    case Owner::kInode:
      storage::bpf_fd_inode_storage_delete_elem(map, static_cast<storage::inode*>(owner));
      return;
  }
}

// The verifier rejects direct loads and stores of special fields: the
// bpf_spin_lock (word 0 of a spin_lock map) and the kptr (word 1 of a kptr
// map, reachable only through bpf_kptr_xchg()).
bool Accessible(uint8_t map, uint8_t word) {
  if (word == 0 && g_prog->maps[map].spin_lock) return false;
  if (word == 1 && g_prog->maps[map].kptr) return false;
  return true;
}

// A value a program got: registered with the reclamation oracles. The
// model's helpers return a selem's data; a tree's, data inside whatever
// object the tree allocated.
ValueRef Ref(void* data) {
  if (g_tree == nullptr) return storage::bpf_value_ref(data);
  ValueRef v;
  if (data == nullptr) return v;
  v.data = data;
  const int64_t id = kernel::slab::IdContaining(data);
  const kernel::slab::Object* o = kernel::slab::Get(id);
  v.id = check::NoteReaderGot(o != nullptr ? o->ptr : data, "bpf_task_storage_get() value");
  return v;
}

// The running context starts operation `op` (OpNames() numbers them).
void SetOp(int op) {
  if (sched::Scheduler* s = sched::Scheduler::Current()) s->SetOp(static_cast<int16_t>(op));
}

// The body of one program: its ops, with the values it holds; `op_base` is
// the number of its first op (OpNames()).
// `pinned`: the tasks a sleepable program's caller holds (real trees).
void RunOps(const OpVector& ops, ProgKind kind, bool in_irq, int op_base, unsigned pinned = 0) {
  ValueRef held[kMaxSlots];
  Owner held_map[kMaxSlots] = {};
  uint8_t held_idx[kMaxSlots] = {};
  int next = 0;
  const bool syscall = kind == ProgKind::kSyscall;
  const Held refs = Acquire(ops, kind, pinned);
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (!(refs.runs & (1u << i))) continue;  // its map or owner is gone
    SetOp(op_base + static_cast<int>(i));
    // What the previous op's kernel code dereferenced is done with once it
    // returned; the program keeps only the values it got (Ref()).
    if (i > 0) check::NoteHelperReturn();
    switch (op.kind) {
      case OpKind::kGet:
        if (syscall) break;
        held[next % kMaxSlots] = Ref(HelperGet(op, kind, in_irq));
        held_map[next % kMaxSlots] = g_obj.map_kind[op.map];
        held_idx[next % kMaxSlots] = op.map;
        ++next;
        break;
      case OpKind::kDelete:
        if (!syscall) HelperDelete(op, kind, in_irq);
        break;
      case OpKind::kLookup:
        if (!syscall) break;
        held[next % kMaxSlots] = Ref(SyscallLookup(op));
        held_map[next % kMaxSlots] = g_obj.map_kind[op.map];
        held_idx[next % kMaxSlots] = op.map;
        ++next;
        break;
      case OpKind::kUpdate:
        if (syscall) SyscallUpdate(op);
        break;
      case OpKind::kSysDelete:
        if (syscall) SyscallDelete(op);
        break;
      case OpKind::kRead:
        if (held[op.slot] && Accessible(held_idx[op.slot], op.word)) {
          (void)storage::bpf_value_read(held[op.slot], op.word);
        }
        break;
      case OpKind::kWrite:
        if (held[op.slot] && Accessible(held_idx[op.slot], op.word)) {
          storage::bpf_value_write(held[op.slot], op.word, op.value);
        }
        break;
      case OpKind::kKptrXchg:
        if (held[op.slot] && g_obj.has_kptr[held_idx[op.slot]]) storage::bpf_value_kptr_xchg_new(held[op.slot]);
        break;
      case OpKind::kSleep:
        if (kind == ProgKind::kSleepable) kernel::msleep_model("page fault");
        break;
    }
  }
  check::NoteHelperReturn();
  Release(refs);
  SetOp(-1);
  (void)held_map;
}

// The number OpNames() gives the first op of each task and interrupt.
int g_task_op_base[kMaxTasks];
int g_irq_op_base[kMaxIrqs];

void NumberOps(const Program& p) {
  int n = 0;
  for (size_t i = 0; i < p.tasks.size() && i < kMaxTasks; ++i) {
    g_task_op_base[i] = n;
    for (const Step& s : p.tasks[i].steps) n += s.kind == StepKind::kProg ? static_cast<int>(s.ops.size()) : 1;
  }
  for (size_t i = 0; i < p.irqs.size() && i < kMaxIrqs; ++i) {
    g_irq_op_base[i] = n;
    n += static_cast<int>(p.irqs[i].ops.size());
  }
}

void RunTask(const TaskDecl* t, int op_base) {
  for (const Step& s : t->steps) {
    if (s.kind != StepKind::kProg) SetOp(op_base);
    switch (s.kind) {
      case StepKind::kProg: {
        const bool pin = g_tree != nullptr && s.prog == ProgKind::kSleepable;
        const PinnedTasks pinned = pin ? PinTasks(s.ops) : PinnedTasks{};
        storage::RunBpfProgram(ToStorage(s.prog),
                               [&] { RunOps(s.ops, s.prog, /*in_irq=*/false, op_base, pinned.mask); });
        if (pin) UnpinTasks(pinned);
        op_base += static_cast<int>(s.ops.size());
        break;
      }
      case StepKind::kReleaseOwner:
        if (g_tree != nullptr) {
          TreeReleaseOwner(s.target);  // the task exits: it waits for no program
        } else if (CloseAndDrain(&g_owner_refs[s.target], "owner references")) {
          storage::world::ReleaseOwner(s.target);
        }
        break;
      case StepKind::kReleaseMap:
        if (CloseAndDrain(&g_map_refs[s.target], "map references")) {
          if (g_tree != nullptr) {
            TreeReleaseMap(s.target);
          } else {
            storage::world::ReleaseMap(s.target);
          }
        }
        break;
    }
    if (s.kind != StepKind::kProg) {
      SetOp(-1);
      ++op_base;
    }
  }
}

void* AllocOwner(Owner kind) {
  switch (kind) {
    case Owner::kTask:
      return storage::alloc_task_struct();
    case Owner::kSk:
      return storage::alloc_sock();
    case Owner::kInode:
      return storage::alloc_inode();
    case Owner::kCgroup:
      return storage::alloc_cgroup();
  }
  return nullptr;
}

storage::OwnerKind ToStorage(Owner o) { return static_cast<storage::OwnerKind>(static_cast<int>(o)); }

// Teardown on a real tree: a process task exits every task not released
// yet and releases every map; the machine runs to quiescence (grace
// periods, callbacks, map_free work); then every object must be freed.
sched::RunStatus TreeTeardown(vm::Machine& m, const Program& p) {
  sched::Scheduler& s = m.sched();
  const size_t owners = p.owners.size(), maps = p.maps.size();
  absl::Status spawned = s.Spawn("teardown", sched::TaskKind::kProcess, 0, [owners, maps] {
                            for (size_t i = 0; i < owners; ++i) TreeReleaseOwner(static_cast<int>(i));
                            for (size_t i = 0; i < maps; ++i) TreeReleaseMap(static_cast<int>(i));
                          }).status();
  if (!spawned.ok()) Fail(spawned.ToString());
  const sched::RunStatus st = m.Run();
  if (st != sched::RunStatus::kCompleted) return st;
  return s.GuardMain([] { check::CheckTeardown(); }) ? sched::RunStatus::kCompleted : sched::RunStatus::kAbandoned;
}

}  // namespace

sched::Scheduler& LastScheduler() { return TheMachine().sched(); }

void ReleaseLastRun() { TheMachine().sched().ReclaimTasks(); }

void AsFuzzTargetsRun(Program& p, storage::Variant v) {
  if (!storage::IsRealTree(v)) return;
  for (MapDecl& m : p.maps) {
    m.owner = Owner::kTask;
    m.kptr = false;
  }
  for (OwnerDecl& o : p.owners) o.kind = Owner::kTask;
}

bool VariantBuilt(storage::Variant v) {
  return !storage::IsRealTree(v) || linux_tree::FindTree(storage::VariantName(v)) != nullptr;
}

absl::Status CheckProgramFor(const Program& p, storage::Variant v) {
  if (!storage::IsRealTree(v)) return absl::OkStatus();
  if (!VariantBuilt(v)) {
    return absl::FailedPreconditionError(absl::StrCat("this build has no tree ", storage::VariantName(v),
                                                      " (see RF_LINUX_TREES in engine/linux/CMakeLists.txt)"));
  }
  for (size_t i = 0; i < p.maps.size(); ++i) {
    if (p.maps[i].owner != Owner::kTask) {
      return absl::InvalidArgumentError(absl::StrCat("map ", i, " is a ", OwnerName(p.maps[i].owner),
                                                     " storage map: ", storage::VariantName(v),
                                                     " builds only bpf_task_storage.c (task storage)"));
    }
    if (p.maps[i].kptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("map ", i, " has a kptr: the real-tree harness does not model kptr fields yet"));
    }
  }
  for (size_t i = 0; i < p.owners.size(); ++i) {
    if (p.owners[i].kind != Owner::kTask) {
      return absl::InvalidArgumentError(absl::StrCat("owner ", i, " is a ", OwnerName(p.owners[i].kind), ": ",
                                                     storage::VariantName(v), " has only task owners"));
    }
  }
  return absl::OkStatus();
}

RunResult RunProgram(const Program& p, const RunOptions& options) {
  vm::Machine& m = TheMachine();
  static sched::BytesChoice own_schedule;
  own_schedule.SetEvents(p.schedule);
  storage::ExecutionOptions eo;
  eo.variant = options.variant;
  eo.num_vcpus = p.num_vcpus;
  eo.step_budget = options.step_budget;
  eo.choice = options.choice != nullptr ? options.choice : &own_schedule;
  eo.record_schedule = options.record_schedule;
  eo.trace_capacity = options.trace_capacity;
  eo.trace_context = options.trace_context;
  eo.on_finding = options.on_finding;
  eo.oracles = options.oracles;
  eo.preempt = options.preempt;
  eo.native = options.native;
  if (absl::Status s = CheckProgramFor(p, options.variant); !s.ok()) Fail(s.ToString());
  if (absl::Status s = storage::ResetExecution(m, eo); !s.ok()) Fail(s.ToString());
  {
    // What the kernel's configuration decides, in every report.
    static char settings[160];
    const bool real = storage::IsRealTree(options.variant);
    snprintf(settings, sizeof(settings),
             "preemption %s, allocation failure %s, rcu_trace_implies_rcu_gp %s, %d vCPUs%s",
             sched::PreemptModelName(m.sched().preempt_model()),
             real && options.allocation_failure && !options.native.enabled ? "a schedule choice" : "never",
             kernel::rcu_trace_implies_rcu_gp() ? "on" : "off", static_cast<int>(p.num_vcpus),
             options.native.enabled ? ", native threads (not replayable)" : "");
    check::SetReportSettings(settings);
  }
  g_tree = nullptr;
  if (storage::IsRealTree(options.variant)) {
    g_tree = linux_tree::FindTree(storage::VariantName(options.variant))->tree;
    linux_tree::ResetRuntime(p.num_vcpus);
    linux_tree::ResetMemAlloc();
    linux_tree::SetAllocationFailure(options.allocation_failure);
    for (bool& b : g_owner_released) b = false;
    for (bool& b : g_map_released) b = false;
    for (void*& t : g_live_tasks) t = nullptr;
    linux_tree::SetTaskTable(g_live_tasks, static_cast<int>(p.owners.size()));
  }

  g_prog = &p;
  NumberOps(p);
  g_obj = Objects{};
  for (Refs& r : g_map_refs) r = Refs{};
  for (Refs& r : g_owner_refs) r = Refs{};
  for (size_t i = 0; g_tree != nullptr && i < p.maps.size(); ++i) {
    int err = 0;
    g_obj.maps[i] = static_cast<bpf_map*>(g_tree->map_create(kValueWords * 8, p.maps[i].spin_lock, &err));
    if (g_obj.maps[i] == nullptr) Fail(absl::StrCat("map_alloc failed: ", err));
    g_obj.map_kind[i] = p.maps[i].owner;
  }
  for (size_t i = 0; g_tree != nullptr && i < p.owners.size(); ++i) {
    g_obj.owners[i] = g_tree->task_alloc(static_cast<int>(i));
    if (g_obj.owners[i] == nullptr) Fail("could not allocate a task");
    g_live_tasks[i] = g_obj.owners[i];
    g_obj.owner_kind[i] = p.owners[i].kind;
  }
  for (size_t i = 0; g_tree == nullptr && i < p.maps.size(); ++i) {
    storage::MapSpec spec;
    spec.owner = ToStorage(p.maps[i].owner);
    spec.value_words = kValueWords;
    spec.spin_lock = p.maps[i].spin_lock;
    spec.kptr = p.maps[i].kptr;
    g_obj.maps[i] = storage::CreateMap(spec);
    if (g_obj.maps[i] == nullptr) Fail("could not create a map");
    g_obj.map_kind[i] = p.maps[i].owner;
    g_obj.has_kptr[i] = p.maps[i].kptr;
  }
  for (size_t i = 0; g_tree == nullptr && i < p.owners.size(); ++i) {
    g_obj.owners[i] = AllocOwner(p.owners[i].kind);
    if (g_obj.owners[i] == nullptr) Fail("could not allocate an owner");
    g_obj.owner_kind[i] = p.owners[i].kind;
  }
  sched::Scheduler& s = m.sched();
  for (size_t i = 0; i < p.tasks.size(); ++i) {
    const TaskDecl* t = &p.tasks[i];
    const int base = g_task_op_base[i];
    absl::StatusOr<int> id =
        s.Spawn(absl::StrCat("T", i), sched::TaskKind::kProcess, t->vcpu, [t, base] { RunTask(t, base); });
    if (!id.ok()) Fail(id.status().ToString());
    if (t->migratable) (void)s.SetMigratable(*id, true);
  }
  for (size_t i = 0; i < p.irqs.size(); ++i) {
    const IrqDecl* q = &p.irqs[i];
    const int base = g_irq_op_base[i];
    absl::StatusOr<int> id = s.AddInterrupt(
        q->kind == IrqKind::kNmi ? sched::IrqKind::kNmi : sched::IrqKind::kHardirq, q->vcpu,
        absl::StrCat(q->kind == IrqKind::kNmi ? "nmi" : "irq", i), [q, base] {
          storage::RunBpfProgram(storage::ProgKind::kTracing,
                                 [q, base] { RunOps(q->ops, ProgKind::kTracing, /*in_irq=*/true, base); });
        });
    if (!id.ok()) Fail(id.status().ToString());
  }
  RunResult r;
  r.status = m.Run();
  if (r.status == sched::RunStatus::kCompleted) {
    // Teardown destroys every owner and frees every map: from then on no
    // program can reach them (the kernel's owners are dying, their maps'
    // last references gone), so interrupt programs still undelivered find
    // them closed, like any program started after a release.
    for (Refs& ref : g_map_refs) __atomic_store_n(&ref.closed, 1, __ATOMIC_SEQ_CST);
    for (Refs& ref : g_owner_refs) __atomic_store_n(&ref.closed, 1, __ATOMIC_SEQ_CST);
    r.status = g_tree != nullptr ? TreeTeardown(m, p) : storage::Teardown(m);
  }
  const check::Finding* f = check::LastFinding();
  if (f != nullptr) r.finding = f->name;
  r.trace_hash = s.trace().hash();
  r.steps = s.step();
  return r;
}

}  // namespace reclaimfuzz::fuzz
