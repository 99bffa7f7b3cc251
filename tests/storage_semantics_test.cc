// SPDX-License-Identifier: MIT
// Semantics of the storage model (docs/kernel-model.md §2) on hand-built
// schedules:
// flag results, the cache and its shared slots, the first-element race,
// BPF_F_LOCK in place, sk charges against optmem_max. Every variant shares
// these paths; each test runs on all four.
#include <cerrno>
#include <string>

#include "engine/kernel/slab.h"
#include "engine/sched/choice_scripted.h"
#include "engine/storage/bpf_local_storage.h"
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
using storage::bpf_local_storage;
using storage::bpf_local_storage_map;
using storage::bpf_map;
using storage::ProgKind;
using storage::RunBpfProgram;
using storage::task_struct;
using storage::u64;
using storage::Variant;

class StorageSemantics : public ::testing::TestWithParam<Variant> {
 protected:
  Variant variant() const { return GetParam(); }
};

std::string VariantParamName(const ::testing::TestParamInfo<Variant>& info) {
  return storage::VariantIdent(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, StorageSemantics, ::testing::ValuesIn(storage::ModelVariants()),
                         VariantParamName);

bpf_local_storage_map* SMAP(bpf_map* m) { return reinterpret_cast<bpf_local_storage_map*>(m); }

// On always-defer-v1 every delete or replace frees early (B2): those tests
// watch the semantics with that oracle off.
check::OracleOptions OraclesFor(Variant v) {
  check::OracleOptions o;
  o.early_free = v != Variant::kAlwaysDeferV1;
  return o;
}

TEST_P(StorageSemantics, SyscallUpdateLookupDeleteAndTeardownClean) {
  Scenario sc(variant());
  sc.options().oracles = OraclesFor(variant());
  sc.Reset();
  static bpf_map* map;
  static task_struct* task;
  static long upd, del, del_again;
  static u64 seen;
  static bpf_local_storage* storage_after;
  map = storage::CreateMap({});
  task = storage::alloc_task_struct();
  upd = del = del_again = 1;
  seen = 0;
  sc.Spawn("user", 0, [] {
    const u64 value[4] = {11, 22, 33, 44};
    RunBpfProgram(ProgKind::kSyscall,
                  [&] { upd = storage::bpf_pid_task_storage_update_elem(map, task, value, storage::BPF_ANY); });
    RunBpfProgram(ProgKind::kSyscall, [] {
      void* v = storage::bpf_pid_task_storage_lookup_elem(map, task);
      if (v != nullptr) seen = storage::bpf_value_read(storage::bpf_value_ref(v), 2);
    });
    RunBpfProgram(ProgKind::kSyscall, [] { del = storage::bpf_pid_task_storage_delete_elem(map, task); });
    RunBpfProgram(ProgKind::kSyscall, [] { del_again = storage::bpf_pid_task_storage_delete_elem(map, task); });
    storage_after = __atomic_load_n(&task->bpf_storage, __ATOMIC_RELAXED);
  });
  EXPECT_EQ(sc.Run(), sched::RunStatus::kCompleted) << scenario::Report();
  EXPECT_EQ(FindingName(), "none");
  EXPECT_EQ(upd, 0);
  EXPECT_EQ(seen, 33u);
  EXPECT_EQ(del, 0);
  EXPECT_EQ(del_again, -ENOENT);
  EXPECT_EQ(storage_after, nullptr);  // the last delete unpublished the storage
}

TEST_P(StorageSemantics, FlagResults) {
  Scenario sc(variant());
  sc.options().oracles = OraclesFor(variant());
  sc.Reset();
  static bpf_map *plain, *other, *locked;
  static task_struct *task, *fresh;
  static long r[9];
  plain = storage::CreateMap({});
  other = storage::CreateMap({});
  locked = storage::CreateMap({.spin_lock = true});
  task = storage::alloc_task_struct();
  fresh = storage::alloc_task_struct();
  for (long& x : r) x = 1;
  sc.Spawn("user", 0, [] {
    const u64 v[4] = {1, 2, 3, 4};
    using storage::BPF_ANY, storage::BPF_EXIST, storage::BPF_NOEXIST, storage::BPF_F_LOCK;
    RunBpfProgram(ProgKind::kSyscall, [&] {
      r[0] = storage::bpf_pid_task_storage_update_elem(plain, task, v, BPF_NOEXIST);
      r[1] = storage::bpf_pid_task_storage_update_elem(plain, task, v, BPF_NOEXIST);
      r[2] = storage::bpf_pid_task_storage_update_elem(other, task, v, BPF_EXIST);
      r[3] = storage::bpf_pid_task_storage_update_elem(plain, fresh, v, BPF_EXIST);
      r[4] = storage::bpf_pid_task_storage_update_elem(plain, task, v, BPF_NOEXIST | BPF_EXIST);
      r[5] = storage::bpf_pid_task_storage_update_elem(plain, task, v, BPF_ANY | BPF_F_LOCK);
      r[6] = storage::bpf_pid_task_storage_delete_elem(other, task);
    });
    // A sleepable program's GFP_KERNEL update is allowed only with NOEXIST.
    RunBpfProgram(ProgKind::kSleepable, [&] {
      r[7] =
          PTR_ERR_OR_ZERO(storage::bpf_local_storage_update(task, SMAP(plain), v, BPF_ANY, false, kernel::GFP_KERNEL));
      r[8] = PTR_ERR_OR_ZERO(
          storage::bpf_local_storage_update(task, SMAP(locked), v, BPF_NOEXIST, false, kernel::GFP_KERNEL));
    });
  });
  EXPECT_EQ(sc.Run(), sched::RunStatus::kCompleted) << scenario::Report();
  EXPECT_EQ(r[0], 0);
  EXPECT_EQ(r[1], -EEXIST);
  EXPECT_EQ(r[2], -ENOENT);  // storage exists, no elem of this map
  EXPECT_EQ(r[3], -ENOENT);  // no storage at all: first-element path
  EXPECT_EQ(r[4], -EINVAL);  // NOEXIST and EXIST together
  EXPECT_EQ(r[5], -EINVAL);  // BPF_F_LOCK without a bpf_spin_lock
  EXPECT_EQ(r[6], -ENOENT);
  EXPECT_EQ(r[7], -EINVAL);  // GFP_KERNEL with BPF_ANY
  EXPECT_EQ(r[8], 0);
}

// BPF_F_LOCK|BPF_EXIST copies into the existing value under its spin lock:
// no new element, same pointer. BPF_ANY replaces the element.
TEST_P(StorageSemantics, LockedUpdateInPlaceAndReplace) {
  Scenario sc(variant());
  sc.options().oracles = OraclesFor(variant());
  sc.Reset();
  static bpf_map* map;
  static task_struct* task;
  static void *before, *after_locked, *after_replace;
  static size_t objects_before, objects_after;
  static u64 word;
  map = storage::CreateMap({.value_words = 4, .spin_lock = true});
  task = storage::alloc_task_struct();
  sc.Spawn("user", 0, [] {
    const u64 v1[4] = {0, 10, 20, 30};
    const u64 v2[4] = {0, 11, 21, 31};
    const u64 v3[4] = {0, 12, 22, 32};
    RunBpfProgram(ProgKind::kSyscall, [&] {
      storage::bpf_pid_task_storage_update_elem(map, task, v1, storage::BPF_NOEXIST);
      before = storage::bpf_pid_task_storage_lookup_elem(map, task);
      objects_before = kernel::slab::NumObjects();
      storage::bpf_pid_task_storage_update_elem(map, task, v2, storage::BPF_EXIST | storage::BPF_F_LOCK);
      objects_after = kernel::slab::NumObjects();
      after_locked = storage::bpf_pid_task_storage_lookup_elem(map, task);
      word = storage::bpf_value_read(storage::bpf_value_ref(after_locked), 2);
      storage::bpf_pid_task_storage_update_elem(map, task, v3, storage::BPF_ANY);
      after_replace = storage::bpf_pid_task_storage_lookup_elem(map, task);
    });
  });
  EXPECT_EQ(sc.Run(), sched::RunStatus::kCompleted) << scenario::Report();
  EXPECT_EQ(FindingName(), "none");
  EXPECT_EQ(before, after_locked);
  EXPECT_EQ(objects_before, objects_after);
  EXPECT_EQ(word, 21u);
  EXPECT_NE(after_replace, before);
}

// A cache hit needs both the slot and the smap check: 17 task maps share 16
// slots, so map 0 and map 16 use slot 0, and a lookup must never return the
// other map's value from it.
TEST_P(StorageSemantics, CacheHitsAndTheSharedSlotSmapCheck) {
  Scenario sc(variant());
  sc.Reset();
  static bpf_map* maps[17];
  static task_struct* task;
  static void* got[4];
  static u64 val[4];
  static storage::bpf_local_storage_data* slot_after[3];
  for (int i = 0; i < 17; ++i) maps[i] = storage::CreateMap({});
  task = storage::alloc_task_struct();
  for (int i = 0; i < 17; ++i) {
    const u64 v[4] = {static_cast<u64>(100 + i), 0, 0, 0};
    ASSERT_EQ(storage::bpf_pid_task_storage_update_elem(maps[i], task, v, storage::BPF_NOEXIST), 0);
  }
  ASSERT_EQ(SMAP(maps[0])->cache_idx, SMAP(maps[16])->cache_idx);
  ASSERT_NE(SMAP(maps[0])->cache_idx, SMAP(maps[1])->cache_idx);
  sc.Spawn("prog", 0, [] {
    RunBpfProgram(ProgKind::kTracing, [] {
      const int order[4] = {0, 16, 0, 0};
      const int idx = SMAP(maps[0])->cache_idx;
      for (int k = 0; k < 4; ++k) {
        got[k] = storage::bpf_task_storage_get(maps[order[k]], task, nullptr, 0, 0);
        val[k] = storage::bpf_value_read(storage::bpf_value_ref(got[k]), 0);
        if (k < 3) slot_after[k] = __atomic_load_n(&task->bpf_storage->cache[idx], __ATOMIC_RELAXED);
      }
    });
  });
  EXPECT_EQ(sc.Run(), sched::RunStatus::kCompleted) << scenario::Report();
  EXPECT_EQ(val[0], 100u);
  EXPECT_EQ(val[1], 116u);  // not map 0's value from the shared slot
  EXPECT_EQ(val[2], 100u);
  EXPECT_EQ(val[3], 100u);
  // Each slow-path lookup published its sdata in the slot.
  EXPECT_EQ(static_cast<void*>(slot_after[0]->data), got[0]);
  EXPECT_EQ(static_cast<void*>(slot_after[1]->data), got[1]);
  EXPECT_EQ(static_cast<void*>(slot_after[2]->data), got[2]);
  EXPECT_EQ(got[2], got[3]);  // the last one was a cache hit on the same sdata
}

// Two programs create the first element of the same task at once. The one
// that loses the cmpxchg of task->bpf_storage gets -EAGAIN (the helper
// returns NULL) and frees its storage and element: nothing leaks.
TEST_P(StorageSemantics, FirstElementRaceEndsInEagainWithoutLeak) {
  Scenario sc(variant());
  sc.Reset();
  static bpf_map *map_a, *map_b;
  static task_struct* task;
  static void *got_a, *got_b;
  map_a = storage::CreateMap({});
  map_b = storage::CreateMap({});
  task = storage::alloc_task_struct();
  got_a = got_b = nullptr;
  auto create = [](bpf_map* m, void** out) {
    RunBpfProgram(ProgKind::kTracing, [&] {
      *out = storage::bpf_task_storage_get(m, task, nullptr, storage::BPF_LOCAL_STORAGE_GET_F_CREATE,
                                           storage::bpf_prog_gfp(ProgKind::kTracing));
    });
  };
  const int a = sc.Spawn("A", 0, [&] { create(map_a, &got_a); });
  const int b = sc.Spawn("B", 1, [&] { create(map_b, &got_b); });
  // A has built its storage and is about to publish it: B runs all the way.
  sc.choice().Add("cmpxchg(owner_storage_ptr)", a, 1, RunOption(b));
  EXPECT_EQ(sc.Run(), sched::RunStatus::kCompleted) << scenario::Report();
  EXPECT_TRUE(sc.choice().AllFired());
  EXPECT_EQ(FindingName(), "none") << scenario::Report();
  EXPECT_EQ(got_a, nullptr);
  EXPECT_NE(got_b, nullptr);
  EXPECT_TRUE(scenario::TraceHasNote("bpf_local_storage_alloc: lost the cmpxchg race"));
}

// sk storage charges sk_omem_alloc against optmem_max; everything is
// returned by the time the sk is destroyed (__sk_destruct checks it).
TEST_P(StorageSemantics, SkChargesAgainstOptmemAndBackToZero) {
  Scenario sc(variant());
  sc.options().oracles = OraclesFor(variant());
  sc.Reset();
  static bpf_map *m1, *m2;
  static storage::sock* sk;
  static int omem[4];
  static long over_limit;
  m1 = storage::CreateMap({.owner = storage::OwnerKind::kSk});
  m2 = storage::CreateMap({.owner = storage::OwnerKind::kSk});
  sk = storage::alloc_sock();
  const int elem = SMAP(m1)->elem_size;  // the map is gone after the run
  sc.Spawn("user", 0, [] {
    const u64 v[4] = {1, 2, 3, 4};
    RunBpfProgram(ProgKind::kSyscall, [&] {
      omem[0] = __atomic_load_n(&sk->sk_omem_alloc.counter, __ATOMIC_RELAXED);
      storage::bpf_fd_sk_storage_update_elem(m1, sk, v, storage::BPF_ANY);
      storage::bpf_fd_sk_storage_update_elem(m2, sk, v, storage::BPF_ANY);
      omem[1] = __atomic_load_n(&sk->sk_omem_alloc.counter, __ATOMIC_RELAXED);
      storage::bpf_fd_sk_storage_delete_elem(m1, sk);
      omem[2] = __atomic_load_n(&sk->sk_omem_alloc.counter, __ATOMIC_RELAXED);
      // Leave room for less than one more element.
      storage::sysctl_optmem_max = omem[2] + SMAP(m1)->elem_size;
      over_limit = storage::bpf_fd_sk_storage_update_elem(m1, sk, v, storage::BPF_ANY);
      omem[3] = __atomic_load_n(&sk->sk_omem_alloc.counter, __ATOMIC_RELAXED);
    });
  });
  EXPECT_EQ(sc.Run(), sched::RunStatus::kCompleted) << scenario::Report();
  EXPECT_EQ(FindingName(), "none") << scenario::Report();
  const int ls = sizeof(bpf_local_storage);
  EXPECT_EQ(omem[0], 0);
  EXPECT_EQ(omem[1], 2 * elem + ls);
  EXPECT_EQ(omem[2], elem + ls);
  EXPECT_EQ(over_limit, -ENOMEM);
  EXPECT_EQ(omem[3], omem[2]);  // the failed charge was not kept
}

// The owner's creation guard: no storage is created on a dying owner.
TEST_P(StorageSemantics, NoCreationOnADyingOwner) {
  Scenario sc(variant());
  sc.Reset();
  static bpf_map* map;
  static task_struct* task;
  static void* got;
  static bpf_local_storage* storage_after;
  map = storage::CreateMap({});
  task = storage::alloc_task_struct();
  got = &got;
  sc.Spawn("user", 0, [] {
    storage::world::ReleaseOwner(0);  // usage -> 0, storage destroyed
    RunBpfProgram(ProgKind::kTracing, [] {
      got = storage::bpf_task_storage_get(map, task, nullptr, storage::BPF_LOCAL_STORAGE_GET_F_CREATE,
                                          storage::bpf_prog_gfp(ProgKind::kTracing));
    });
    storage_after = __atomic_load_n(&task->bpf_storage, __ATOMIC_RELAXED);
  });
  EXPECT_EQ(sc.Run(), sched::RunStatus::kCompleted) << scenario::Report();
  EXPECT_EQ(FindingName(), "none") << scenario::Report();
  EXPECT_EQ(got, nullptr);
  EXPECT_EQ(storage_after, nullptr);
}

}  // namespace
}  // namespace reclaimfuzz
