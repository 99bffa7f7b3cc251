// SPDX-License-Identifier: MIT
// Seeded random schedules of a mixed workload: programs of every kind on two
// vCPUs, a hardirq and an NMI program, owners and a map released while
// programs run, and a concurrent teardown. always-defer-fixed must be clean
// on every schedule; v4-srcu-fix too when no NMI program frees (its NMI
// frees are context violations, see scenario_context_test). A seed replays
// exactly.
#include <cstdint>
#include <string>

#include "engine/kernel/context.h"
#include "engine/sched/choice_random.h"
#include "engine/storage/owners.h"
#include "engine/storage/program.h"
#include "engine/storage/world.h"
#include "gtest/gtest.h"
#include "tests/scenario_harness.h"

namespace reclaimfuzz {
namespace {

using kernel::gfp_t;
using storage::bpf_map;
using storage::ProgKind;
using storage::RunBpfProgram;
using storage::u64;
using storage::Variant;

constexpr uint64_t kGet = storage::BPF_LOCAL_STORAGE_GET_F_CREATE;

struct World {
  bpf_map* map[3] = {};  // task, task, sk
  storage::task_struct* task[2] = {};
  storage::sock* sk = nullptr;
};
World w;

void TouchValue(void* data, u64 x) {
  const storage::ValueRef v = storage::bpf_value_ref(data);
  if (!v) return;
  storage::bpf_value_write(v, 2, x);
  (void)storage::bpf_value_read(v, 3);
}

struct Result {
  std::string finding;
  uint64_t hash = 0;
  sched::RunStatus status = sched::RunStatus::kCompleted;
};

Result RunWorkload(Variant variant, uint64_t seed, bool nmi) {
  sched::RandomChoice choice(seed, 4);
  scenario::Scenario sc(variant);
  sc.options().choice = &choice;
  sc.Reset();
  w = World{};
  w.map[0] = storage::CreateMap({.kptr = true});
  w.map[1] = storage::CreateMap({.spin_lock = true});
  w.map[2] = storage::CreateMap({.owner = storage::OwnerKind::kSk});
  w.task[0] = storage::alloc_task_struct();
  w.task[1] = storage::alloc_task_struct();
  w.sk = storage::alloc_sock();
  const u64 v[4] = {0, 0, 5, 6};
  storage::bpf_pid_task_storage_update_elem(w.map[1], w.task[1], v, storage::BPF_ANY);

  // Task 0 is released while programs run: they reach it through
  // OwnerGet(), as the kernel's programs reach a task through RCU.
  sc.Spawn("tracer", 0, [] {
    for (int i = 0; i < 2; ++i) {
      RunBpfProgram(ProgKind::kTracing, [i] {
        const gfp_t gfp = storage::bpf_prog_gfp(ProgKind::kTracing);
        auto* t0 = static_cast<storage::task_struct*>(storage::world::OwnerGet(0));
        storage::bpf_task_storage_delete(w.map[1], w.task[1]);
        if (t0 == nullptr) return;
        void* d = storage::bpf_task_storage_get(w.map[0], t0, nullptr, kGet, gfp);
        TouchValue(d, 10 + i);
        if (d != nullptr) storage::bpf_value_kptr_xchg_new(storage::bpf_value_ref(d));
        TouchValue(storage::bpf_task_storage_get(w.map[1], t0, nullptr, kGet, gfp), i);
      });
    }
  });
  sc.Spawn("syscalls", 1, [] {
    const u64 x[4] = {0, 0, 7, 8};
    RunBpfProgram(ProgKind::kSyscall, [&] {
      storage::bpf_pid_task_storage_update_elem(w.map[0], w.task[1], x, storage::BPF_ANY);
      storage::bpf_pid_task_storage_update_elem(w.map[1], w.task[1], x, storage::BPF_EXIST | storage::BPF_F_LOCK);
      if (auto* t0 = static_cast<storage::task_struct*>(storage::world::OwnerGet(0))) {
        storage::bpf_pid_task_storage_delete_elem(w.map[0], t0);
      }
      storage::bpf_fd_sk_storage_update_elem(w.map[2], w.sk, x, storage::BPF_ANY);
    });
    storage::world::ReleaseOwner(0);  // task 0 dies while the tracer may run
  });
  sc.Spawn("sleepable", 1, [] {
    RunBpfProgram(ProgKind::kSleepable, [] {
      void* d = storage::bpf_task_storage_get(w.map[1], w.task[1], nullptr, kGet,
                                              storage::bpf_prog_gfp(ProgKind::kSleepable));
      const storage::ValueRef r = storage::bpf_value_ref(d);
      if (r) storage::bpf_value_write(r, 2, 99);
      kernel::msleep_model("fault");
      if (r) (void)storage::bpf_value_read(r, 2);
      TouchValue(
          storage::bpf_sk_storage_get(w.map[2], w.sk, nullptr, kGet, storage::bpf_prog_gfp(ProgKind::kSleepable)), 3);
    });
  });
  sc.AddHardirq(0, "hardirq", [] {
    RunBpfProgram(ProgKind::kTracing, [] {
      storage::bpf_task_storage_delete(w.map[0], w.task[1]);
      TouchValue(
          storage::bpf_task_storage_get(w.map[1], w.task[1], nullptr, kGet, storage::bpf_prog_gfp(ProgKind::kTracing)),
          4);
    });
  });
  if (nmi) {
    sc.AddNmi(1, "nmi", [] {
      RunBpfProgram(ProgKind::kTracing, [] {
        storage::bpf_task_storage_delete(w.map[1], w.task[1]);
        TouchValue(storage::bpf_task_storage_get(w.map[0], w.task[1], nullptr, kGet,
                                                 storage::bpf_prog_gfp(ProgKind::kTracing)),
                   5);
      });
    });
  }
  Result r;
  r.status = sc.Run(storage::TeardownOptions{.concurrent = true});
  r.finding = scenario::FindingName();
  r.hash = sc.sched().trace().hash();
  return r;
}

constexpr int kSeeds = 150;

TEST(StorageRandom, AlwaysDeferFixedIsCleanOnEverySchedule) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Result r = RunWorkload(Variant::kAlwaysDeferFixed, seed, /*nmi=*/true);
    ASSERT_EQ(r.finding, "none") << "seed " << seed << "\n" << scenario::Report();
    ASSERT_EQ(r.status, sched::RunStatus::kCompleted) << "seed " << seed;
  }
}

TEST(StorageRandom, V4SrcuFixIsCleanWithoutNmiFrees) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Result r = RunWorkload(Variant::kV4SrcuFix, seed, /*nmi=*/false);
    ASSERT_EQ(r.finding, "none") << "seed " << seed << "\n" << scenario::Report();
    ASSERT_EQ(r.status, sched::RunStatus::kCompleted) << "seed " << seed;
  }
}

// always-defer-v1 is left out: on these schedules its per-CPU hlist is also
// corrupted by same-CPU preemption (the kworker draining it preempts a
// program pushing onto it), and a selem's rcu_head, shared with free_node,
// is overwritten after call_rcu(): the run ends in a wild jump, not a
// finding (seed 8). Its findings are pinned by the scenario tests.
TEST(StorageRandom, SameSeedSameTraceAndVerdict) {
  for (Variant v : {Variant::kV4, Variant::kV4SrcuFix, Variant::kAlwaysDeferFixed}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const Result a = RunWorkload(v, seed, true);
      const Result b = RunWorkload(v, seed, true);
      ASSERT_EQ(a.hash, b.hash) << storage::VariantName(v) << " seed " << seed;
      ASSERT_EQ(a.finding, b.finding) << storage::VariantName(v) << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace reclaimfuzz
