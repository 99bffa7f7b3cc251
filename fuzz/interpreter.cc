#include "fuzz/interpreter.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/kernel/context.h"
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

// References. A running program that uses a map or an owner holds a
// reference to it, as the kernel's programs do (map refcounts; a trusted or
// RCU-protected owner pointer, freed only after the programs that can reach
// it are gone: "No bpf prog (sleepable or not) can have a hold on this sk").
// So map_free and an owner's destroy never run under a program that uses
// them. Once a task releases a map or an owner, later programs find it gone
// and skip their ops on it, and the release waits for the programs still
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
  unsigned owners = 0;
  uint32_t runs = 0;  // bit i: ops[i] may run (kMaxOpsPerProg <= 32)
};
static_assert(kMaxOpsPerProg <= 32);

Held Acquire(const std::vector<Op>& ops) {
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
  take(g_owner_refs, kMaxOwners, h.owners);
  for (size_t i = 0; i < ops.size() && i < 32; ++i) {
    const bool runs = !UsesMapAndOwner(ops[i]) ||
                      ((h.maps & (1u << ops[i].map)) && (h.owners & (1u << ops[i].owner)));
    if (runs) h.runs |= 1u << i;
  }
  return h;
}

void Release(const Held& h) {
  for (int i = 0; i < kMaxMaps; ++i) {
    if (h.maps & (1u << i)) __atomic_sub_fetch(&g_map_refs[i].users, 1, __ATOMIC_SEQ_CST);
  }
  for (int i = 0; i < kMaxOwners; ++i) {
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
    case ProgKind::kTracing: return storage::ProgKind::kTracing;
    case ProgKind::kSleepable: return storage::ProgKind::kSleepable;
    case ProgKind::kSyscall: return storage::ProgKind::kSyscall;
    case ProgKind::kRqLocked: return storage::ProgKind::kRqLocked;
  }
  return storage::ProgKind::kTracing;
}

// One helper call. `in_irq`: the program runs in a hardirq or NMI.
void* HelperGet(const Op& op, ProgKind kind, bool in_irq) {
  u64 value[kValueWords];
  for (u64& w : value) w = op.value;
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

// The body of one program: its ops, with the values it holds.
void RunOps(const std::vector<Op>& ops, ProgKind kind, bool in_irq) {
  ValueRef held[kMaxSlots];
  Owner held_map[kMaxSlots] = {};
  uint8_t held_idx[kMaxSlots] = {};
  int next = 0;
  const bool syscall = kind == ProgKind::kSyscall;
  const Held refs = Acquire(ops);
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (!(refs.runs & (1u << i))) continue;  // its map or owner is gone
    switch (op.kind) {
      case OpKind::kGet:
        if (syscall) break;
        held[next % kMaxSlots] = storage::bpf_value_ref(HelperGet(op, kind, in_irq));
        held_map[next % kMaxSlots] = g_obj.map_kind[op.map];
        held_idx[next % kMaxSlots] = op.map;
        ++next;
        break;
      case OpKind::kDelete:
        if (!syscall) HelperDelete(op, kind, in_irq);
        break;
      case OpKind::kLookup:
        if (!syscall) break;
        held[next % kMaxSlots] = storage::bpf_value_ref(SyscallLookup(op));
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
  Release(refs);
  (void)held_map;
}

void RunTask(const TaskDecl* t) {
  for (const Step& s : t->steps) {
    switch (s.kind) {
      case StepKind::kProg:
        storage::RunBpfProgram(ToStorage(s.prog), [&] { RunOps(s.ops, s.prog, /*in_irq=*/false); });
        break;
      case StepKind::kReleaseOwner:
        if (CloseAndDrain(&g_owner_refs[s.target], "owner references")) {
          storage::world::ReleaseOwner(s.target);
        }
        break;
      case StepKind::kReleaseMap:
        if (CloseAndDrain(&g_map_refs[s.target], "map references")) storage::world::ReleaseMap(s.target);
        break;
    }
  }
}

void* AllocOwner(Owner kind) {
  switch (kind) {
    case Owner::kTask: return storage::alloc_task_struct();
    case Owner::kSk: return storage::alloc_sock();
    case Owner::kInode: return storage::alloc_inode();
    case Owner::kCgroup: return storage::alloc_cgroup();
  }
  return nullptr;
}

storage::OwnerKind ToStorage(Owner o) { return static_cast<storage::OwnerKind>(static_cast<int>(o)); }

}  // namespace

sched::Scheduler& LastScheduler() { return TheMachine().sched(); }

void AsFuzzTargetsRun(Program& p) { p.trace_implies_rcu_gp = true; }

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
  eo.on_finding = options.on_finding;
  if (absl::Status s = storage::ResetExecution(m, eo); !s.ok()) Fail(s.ToString());
  rcu::SetTraceImpliesRcuGp(p.trace_implies_rcu_gp);

  g_prog = &p;
  g_obj = Objects{};
  for (Refs& r : g_map_refs) r = Refs{};
  for (Refs& r : g_owner_refs) r = Refs{};
  for (size_t i = 0; i < p.maps.size(); ++i) {
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
  for (size_t i = 0; i < p.owners.size(); ++i) {
    g_obj.owners[i] = AllocOwner(p.owners[i].kind);
    if (g_obj.owners[i] == nullptr) Fail("could not allocate an owner");
    g_obj.owner_kind[i] = p.owners[i].kind;
  }
  sched::Scheduler& s = m.sched();
  for (size_t i = 0; i < p.tasks.size(); ++i) {
    const TaskDecl* t = &p.tasks[i];
    absl::StatusOr<int> id = s.Spawn(absl::StrCat("T", i), sched::TaskKind::kProcess, t->vcpu, [t] { RunTask(t); });
    if (!id.ok()) Fail(id.status().ToString());
    if (t->migratable) (void)s.SetMigratable(*id, true);
  }
  for (size_t i = 0; i < p.irqs.size(); ++i) {
    const IrqDecl* q = &p.irqs[i];
    absl::StatusOr<int> id = s.AddInterrupt(
        q->kind == IrqKind::kNmi ? sched::IrqKind::kNmi : sched::IrqKind::kHardirq, q->vcpu,
        absl::StrCat(q->kind == IrqKind::kNmi ? "nmi" : "irq", i), [q] {
          storage::RunBpfProgram(storage::ProgKind::kTracing,
                                 [q] { RunOps(q->ops, ProgKind::kTracing, /*in_irq=*/true); });
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
    r.status = storage::Teardown(m);
  }
  const check::Finding* f = check::LastFinding();
  if (f != nullptr) r.finding = f->name;
  r.trace_hash = s.trace().hash();
  r.steps = s.step();
  return r;
}

}  // namespace reclaimfuzz::fuzz
