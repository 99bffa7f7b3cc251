// SPDX-License-Identifier: MIT
// Each oracle fires on the bug it exists for. The bugs are injected into an
// otherwise correct execution (v4-srcu-fix, which is clean on all of them):
// a stale cache slot, a wrong charge, a missed uncharge, a leak, a free
// before its grace period, a reader whose object is freed, a free path
// under the storage lock.
#include <string>

#include "engine/check/reclaim.h"
#include "engine/kernel/slab.h"
#include "engine/storage/bpf_local_storage.h"
#include "engine/storage/invariants.h"
#include "engine/storage/owners.h"
#include "engine/storage/program.h"
#include "engine/storage/world.h"
#include "gtest/gtest.h"
#include "tests/scenario_harness.h"

namespace reclaimfuzz {
namespace {

using scenario::FindingName;
using scenario::Scenario;
using storage::bpf_local_storage;
using storage::bpf_local_storage_map;
using storage::bpf_map;
using storage::ProgKind;
using storage::RunBpfProgram;
using storage::task_struct;
using storage::u64;
using storage::Variant;

bpf_local_storage_map* SMAP(bpf_map* m) { return reinterpret_cast<bpf_local_storage_map*>(m); }

struct World {
  bpf_map* map[2] = {};
  task_struct* task = nullptr;
};
World w;

// Two maps, one task with an element in each (main context).
void Populate() {
  w = World{};
  for (auto& m : w.map) m = storage::CreateMap({});
  w.task = storage::alloc_task_struct();
  const u64 v[4] = {1, 2, 3, 4};
  for (auto* m : w.map) {
    ASSERT_EQ(storage::bpf_pid_task_storage_update_elem(m, w.task, v, storage::BPF_NOEXIST), 0);
  }
}

// Runs `mutate` inside a syscall program on vCPU 0 with the task's storage
// lock held, then releases the lock through the model (which checks the
// invariants).
template <typename Mutate>
std::string MutateUnderStorageLock(Mutate mutate) {
  Scenario sc(Variant::kV4SrcuFix);
  sc.Reset();
  Populate();
  static Mutate* m;
  m = &mutate;
  sc.Spawn("mutator", 0, [] {
    RunBpfProgram(ProgKind::kSyscall, [] {
      bpf_local_storage* ls = rcu_dereference(w.task->bpf_storage);
      kernel::irqflags_t flags;
      if (raw_res_spin_lock_irqsave(&ls->lock, flags) != 0) return;
      (*m)(ls);
      storage::bpf_local_storage_unlock(ls, flags);
    });
  });
  sc.Run();
  return FindingName();
}

TEST(Oracles, CleanWithoutMutation) {
  EXPECT_EQ(MutateUnderStorageLock([](bpf_local_storage*) {}), "none") << scenario::Report();
}

// The race __bpf_local_storage_insert_cache() takes L_s against: an sdata
// unlinked by a delete is published to the cache.
TEST(Oracles, StaleCacheSlotIsInvariantCacheLinked) {
  EXPECT_EQ(MutateUnderStorageLock([](bpf_local_storage* ls) {
              storage::bpf_local_storage_data* sdata = storage::bpf_local_storage_lookup(ls, SMAP(w.map[0]), false);
              storage::bpf_local_storage_elem* selem = SELEM(sdata);
              kernel::hlist_del_init_rcu(&selem->snode);  // as if a delete won the race
              rcu_assign_pointer(ls->cache[SMAP(w.map[0])->cache_idx], sdata);
            }),
            "invariant:cache-linked")
      << scenario::Report();
}

TEST(Oracles, WrongMemChargeIsInvariantMemCharge) {
  EXPECT_EQ(MutateUnderStorageLock([](bpf_local_storage* ls) { ls->mem_charge += 8; }), "invariant:mem-charge")
      << scenario::Report();
}

TEST(Oracles, OwnerPointerClearedWithSelemsLeftIsInvariantOwnerStorage) {
  EXPECT_EQ(MutateUnderStorageLock([](bpf_local_storage* ls) {
              RCU_INIT_POINTER(w.task->bpf_storage, nullptr);
              (void)ls;
            }),
            "invariant:owner-storage")
      << scenario::Report();
}

TEST(Oracles, FreePathUnderTheStorageLockIsInvariantFreeUnlocked) {
  EXPECT_EQ(MutateUnderStorageLock([](bpf_local_storage*) {
              void* p = kernel::kmalloc_nolock(sizeof(storage::bpf_local_storage_elem) + 64, kernel::__GFP_ZERO,
                                               kernel::NUMA_NO_NODE, "selem");
              auto* selem = static_cast<storage::bpf_local_storage_elem*>(p);
              selem->use_kmalloc_nolock = true;
              storage::bpf_selem_free(selem, true);
            }),
            "invariant:free-unlocked")
      << scenario::Report();
}

// A charge that is never returned: the ledger is not back to zero.
TEST(Oracles, MissedUnchargeIsAccounting) {
  EXPECT_EQ(MutateUnderStorageLock([](bpf_local_storage*) { storage::mem_charge(SMAP(w.map[0]), w.task, 40); }),
            "accounting")
      << scenario::Report();
  EXPECT_NE(scenario::Report().find("40 bytes still charged"), std::string::npos);
}

// sk: the kernel's own optmem leakage check in __sk_destruct.
TEST(Oracles, SkOptmemLeakIsAccountingAtDestruct) {
  Scenario sc(Variant::kV4SrcuFix);
  sc.Reset();
  static storage::sock* sk;
  sk = storage::alloc_sock();
  sc.Spawn("leaker", 0, [] { kernel::atomic_add_return(24, &sk->sk_omem_alloc); });
  sc.Run();
  EXPECT_EQ(FindingName(), "accounting") << scenario::Report();
  EXPECT_NE(scenario::Report().find("optmem leakage (24 bytes)"), std::string::npos);
}

TEST(Oracles, LeakIsLostObject) {
  Scenario sc(Variant::kV4SrcuFix);
  sc.Reset();
  sc.Spawn("leaker", 0, [] { kernel::kmalloc_nolock(32, kernel::__GFP_ZERO, kernel::NUMA_NO_NODE, "leaked thing"); });
  sc.Run();
  EXPECT_EQ(FindingName(), "lost-object") << scenario::Report();
  EXPECT_NE(scenario::Report().find("leaked thing"), std::string::npos);
}

// An object a sleepable program may hold, freed behind regular RCU only.
TEST(Oracles, FreeBehindTheWrongGracePeriodIsEarlyFree) {
  for (bool trace_gp : {false, true}) {
    Scenario sc(Variant::kV4SrcuFix);
    sc.Reset();
    static bool via_trace;
    via_trace = trace_gp;
    sc.Spawn("unlinker", 0, [] {
      struct Obj {
        kernel::rcu_head rcu;
      };
      auto* o = static_cast<Obj*>(kernel::kmalloc_nolock(sizeof(Obj), kernel::__GFP_ZERO, kernel::NUMA_NO_NODE, "obj"));
      check::NoteUnlinked(o, check::Readers::kPrograms);
      auto free_cb = [](kernel::rcu_head* h) { kernel::kfree_nolock(h); };
      if (via_trace) {
        kernel::call_rcu_tasks_trace(&o->rcu, free_cb);
      } else {
        kernel::call_rcu(&o->rcu, free_cb);
      }
    });
    sc.Run();
    EXPECT_EQ(FindingName(), trace_gp ? "none" : "early-free") << scenario::Report();
  }
}

// A tracing program holds a value; something frees its element in place.
TEST(Oracles, ElementFreedUnderAReaderIsReaderSawFreed) {
  Scenario sc(Variant::kV4SrcuFix);
  sc.options().oracles.early_free = false;
  sc.Reset();
  Populate();
  sc.Spawn("reader", 0, [] {
    RunBpfProgram(ProgKind::kTracing, [] {
      const storage::ValueRef v =
          storage::bpf_value_ref(storage::bpf_task_storage_get(w.map[0], w.task, nullptr, 0, 0));
      // The bug: the element is freed in place, not after a grace period.
      kernel::kfree_nolock(kernel::slab::Get(v.id)->ptr);
    });
  });
  sc.Run();
  EXPECT_EQ(FindingName(), "reader-saw-freed") << scenario::Report();
}

}  // namespace
}  // namespace reclaimfuzz
