// SPDX-License-Identifier: MIT
// The two teardown unlinkers (docs/kernel-model.md §2.5-2.7): destroy (the
// owner is dying) and map_free (the map's last reference is gone) race on the same
// elements. The nofail state protocol must free each element exactly once,
// free the special fields exactly once, and leave the owner's charges at
// zero (map_free must not uncharge after destroy's owner_refcnt wait).
// Then: map_free must outlive every free callback that touches smap, which
// the posted always-defer patch breaks.
#include <set>
#include <string>

#include "engine/kernel/rqspinlock.h"
#include "engine/kernel/slab.h"
#include "engine/sched/choice_scripted.h"
#include "engine/storage/owners.h"
#include "engine/storage/program.h"
#include "engine/storage/world.h"
#include "gtest/gtest.h"
#include "tests/scenario_harness.h"

namespace reclaimfuzz {
namespace {

using scenario::FindingName;
using scenario::Scenario;
using sched::RunOption;
using storage::bpf_map;
using storage::ProgKind;
using storage::RunBpfProgram;
using storage::u64;
using storage::Variant;

struct RaceOutcome {
  bool fired = false;
  sched::RunStatus status = sched::RunStatus::kCompleted;
  std::string finding;
  bool destroy_saw_half = false;  // destroy found map_free's half-unlinked selem
  bool map_free_saw_half = false;
};

// A fallback that stalls every other vCPU while one task spins, for at most
// one rqspinlock timeout's worth of spin points: the vCPU holding the lock
// the task waits for makes no progress (a hypervisor preempted it, an NMI
// storm), as long as the kernel's 0.25 s (engine/kernel/rqspinlock.h).
// Elsewhere DefaultChoice().
class StallWhileSpinning : public sched::ChoiceSource {
 public:
  void Set(int spinner) {
    spinner_ = spinner;
    left_ = kernel::kRqspinlockTimeoutSpins;
  }
  void Begin(const sched::ExecutionShape&) override { left_ = kernel::kRqspinlockTimeoutSpins; }
  bool Consult(const sched::PointHeader&) override { return false; }
  size_t Choose(const sched::PointView& view) override {
    if (view.header.task == spinner_ && view.header.kind == sched::PointKind::kSpin && left_ > 0 &&
        !view.options.empty() && view.options[0].kind == sched::Option::kContinue) {
      --left_;
      return 0;
    }
    return sched::DefaultChoice(view);
  }
  std::string Describe() const override { return "stall while spinning"; }

 private:
  int spinner_ = -1;
  int left_ = 0;
};

// World: sk maps M1 (its values hold a kptr) and M2; two sks with an
// element in each. F frees M1 on vCPU 1 while D destroys sk 0 on vCPU 0;
// D starts at F's nth point and runs as far as it can. With `stall`, F's
// vCPU stalls while D spins, for one rqspinlock timeout.
RaceOutcome RunDestroyVsMapFree(Variant variant, int nth, bool stall = false) {
  StallWhileSpinning staller;
  Scenario sc(variant, 2, stall ? &staller : nullptr);
  sc.Reset();
  static bpf_map *m1, *m2;
  static storage::sock* sk[2];
  m1 = storage::CreateMap({.owner = storage::OwnerKind::kSk, .kptr = true});
  m2 = storage::CreateMap({.owner = storage::OwnerKind::kSk});
  for (auto& s : sk) {
    s = storage::alloc_sock();
    const u64 v[4] = {1, 0, 2, 3};
    EXPECT_EQ(storage::bpf_fd_sk_storage_update_elem(m1, s, v, storage::BPF_NOEXIST), 0);
    EXPECT_EQ(storage::bpf_fd_sk_storage_update_elem(m2, s, v, storage::BPF_NOEXIST), 0);
    // The special field: a kptr that bpf_obj_free_fields() must release once.
    auto* words = static_cast<u64*>(storage::bpf_fd_sk_storage_lookup_elem(m1, s));
    words[storage::kKptrWord] =
        reinterpret_cast<u64>(kernel::kmalloc_nolock(16, kernel::__GFP_ZERO, kernel::NUMA_NO_NODE, "kptr object"));
  }
  const int f = sc.Spawn("F (map_free M1)", 1, [] { storage::world::ReleaseMap(0); });
  // No program uses the sk: D drops its last reference at once.
  const int d = sc.Spawn("D (destroy sk0)", 0, [] { storage::world::ReleaseOwner(0, /*wait_for_programs=*/false); });
  staller.Set(d);
  sc.choice().Add("", f, nth, RunOption(d));
  RaceOutcome o;
  o.status = sc.Run();
  o.fired = sc.choice().AllFired();
  o.finding = FindingName();
  o.destroy_saw_half = scenario::TraceHasNote("nofail(destroy): one side unlinked");
  o.map_free_saw_half = scenario::TraceHasNote("nofail(map_free): one side unlinked");
  return o;
}

class MapFreeRace : public ::testing::TestWithParam<Variant> {};

TEST_P(MapFreeRace, DestroyRacingMapFreeFreesEachElementOnceAtEveryCutPoint) {
  int points = 0;
  bool destroy_half = false, map_free_half = false;
  std::set<std::string> findings;
  for (int k = 1; k < 3000; ++k) {
    const RaceOutcome o = RunDestroyVsMapFree(GetParam(), k);
    if (!o.fired) break;
    ++points;
    if (o.finding != "none") {
      findings.insert(o.finding + " at cut " + std::to_string(k) + ":\n" + scenario::Report());
    }
    EXPECT_EQ(o.status, sched::RunStatus::kCompleted) << "cut " << k;
    destroy_half |= o.destroy_saw_half;
    map_free_half |= o.map_free_saw_half;
  }
  EXPECT_GT(points, 50);
  EXPECT_TRUE(findings.empty()) << *findings.begin();
  // The state protocol was exercised from both sides.
  EXPECT_TRUE(destroy_half);
  EXPECT_TRUE(map_free_half);
}

// docs/findings/destroy-timeout-leak.md: map_free of M1 holds sk0's storage
// lock while its vCPU stalls for as long as an rqspinlock takes to time
// out; destroy, which has just unlinked sk0's M2 element from M2, times out
// on that lock. Upstream (every model variant but the fixed one) leaves that
// element on the storage's list, where no one will unlink it: it and the
// storage leak. The fix (destroy retries the lock) is clean at every cut.
TEST_P(MapFreeRace, DestroyTimingOutOnMapFreesStorageLockLeaksUpstream) {
  const Variant v = GetParam();
  // The variant believed correct must be clean; every other one has
  // upstream's destroy.
  const bool fixed = v == Variant::kAlwaysDeferFixedMapFreeFix;
  int points = 0, leaks = 0;
  bool timed_out = false;
  std::set<std::string> other;
  std::string leak_report;
  for (int k = 1; k < 3000; ++k) {
    const RaceOutcome o = RunDestroyVsMapFree(v, k, /*stall=*/true);
    if (!o.fired) break;
    ++points;
    timed_out |= scenario::TraceHasNote("rqspinlock -ETIMEDOUT");
    if (o.finding == "none") EXPECT_EQ(o.status, sched::RunStatus::kCompleted) << "cut " << k;
    if (o.finding == "lost-object") {
      if (leaks++ == 0) leak_report = scenario::Report();
    } else if (o.finding != "none") {
      other.insert(o.finding + " at cut " + std::to_string(k) + ":\n" + scenario::Report());
    }
  }
  EXPECT_GT(points, 50);
  EXPECT_TRUE(timed_out) << "the stall never made destroy time out: the scenario tests nothing";
  EXPECT_TRUE(other.empty()) << *other.begin();
  if (fixed) {
    EXPECT_EQ(leaks, 0) << leak_report;
  } else {
    EXPECT_GT(leaks, 0) << "no cut leaked on " << storage::VariantName(v);
    // The leaked element is M2's, the map nobody was freeing.
    EXPECT_NE(leak_report.find("still allocated"), std::string::npos) << leak_report;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, MapFreeRace, ::testing::ValuesIn(storage::ModelVariants()),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return storage::VariantIdent(info.param);
                         });

// D deletes an element on vCPU 1, then F frees its map on vCPU 0; the
// kworker that runs deferred frees on vCPU 1 is slow (runs last).
// always-defer-v1's work function hands the element to bpf_selem_free()
// only after map_free's rcu_barrier*() returned and smap was freed, so the
// free callback reads a freed smap. always-defer-fixed flushes its deferred
// frees before the barriers.
std::string RunDeleteThenMapFreeWithSlowWorker(Variant variant) {
  Scenario sc(variant);
  sc.options().oracles.early_free = variant != Variant::kAlwaysDeferV1;  // B2, not this
  sc.Reset();
  static bpf_map* map;
  static storage::task_struct* task;
  static int deleted;
  map = storage::CreateMap({});
  task = storage::alloc_task_struct();
  deleted = 0;
  const u64 v[4] = {1, 2, 3, 4};
  EXPECT_EQ(storage::bpf_pid_task_storage_update_elem(map, task, v, storage::BPF_NOEXIST), 0);
  sc.Spawn("D (delete)", 1, [] {
    RunBpfProgram(ProgKind::kTracing, [] { EXPECT_EQ(storage::bpf_task_storage_delete(map, task), 0); });
    __atomic_store_n(&deleted, 1, __ATOMIC_RELEASE);
  });
  sc.Spawn("F (map_free)", 0, [&sc] {
    sc.sched().WaitFor([](void*) { return __atomic_load_n(&deleted, __ATOMIC_ACQUIRE) != 0; }, nullptr, "the delete");
    storage::world::ReleaseMap(0);
  });
  sc.choice().SetBackground(sc.TaskNamed("kworker/1"));
  sc.Run();
  return FindingName();
}

TEST(MapFreeBarrier, AlwaysDeferV1FreeCallbackTouchesFreedSmap) {
  EXPECT_EQ(RunDeleteThenMapFreeWithSlowWorker(Variant::kAlwaysDeferV1), "invariant:map-barrier") << scenario::Report();
  EXPECT_NE(scenario::Report().find("bpf_selem_free_rcu()"), std::string::npos) << scenario::Report();
}

TEST(MapFreeBarrier, CleanOnTheOtherVariants) {
  for (Variant v :
       {Variant::kV4, Variant::kV4SrcuFix, Variant::kAlwaysDeferFixed, Variant::kAlwaysDeferFixedMapFreeFix}) {
    EXPECT_EQ(RunDeleteThenMapFreeWithSlowWorker(v), "none") << storage::VariantName(v) << "\n" << scenario::Report();
  }
}

}  // namespace
}  // namespace reclaimfuzz
