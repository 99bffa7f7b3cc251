// SPDX-License-Identifier: MIT
// B2 (docs/kernel-model.md §6): always-defer-v1's work function frees every
// deferred element with reuse_now=true, i.e. behind regular RCU only. A
// sleepable program inside rcu_read_lock_trace() that took an sdata pointer
// and sleeps is not a regular RCU reader, so the element is freed under it.
//
// Scenario: S (vCPU 0, sleepable) creates task V's element, writes 42 and
// sleeps (a fault); D (vCPU 1) deletes the element in a tracing program; S
// stays asleep as long as anything else can run (the regular grace periods,
// the callback, the work function), then reads and ends.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/kernel/context.h"
#include "engine/storage/owners.h"
#include "engine/storage/program.h"
#include "engine/storage/world.h"
#include "gtest/gtest.h"
#include "tests/scenario_harness.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_SCENARIO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RF_SCENARIO_TSAN 1
#endif
#endif

namespace reclaimfuzz {
namespace {

using scenario::FindingName;
using scenario::Scenario;
using storage::ProgKind;
using storage::RunBpfProgram;
using storage::u64;
using storage::Variant;

struct B2 {
  storage::bpf_map* map = nullptr;
  storage::task_struct* victim = nullptr;
  int slept = 0;  // atomic: S is asleep holding the pointer
  bool got = false;
  u64 read = 0;
  long deleted = 1;
  sched::RunStatus status = sched::RunStatus::kCompleted;
  std::string finding;
};
B2 g;

bool Slept(void*) { return __atomic_load_n(&g.slept, __ATOMIC_ACQUIRE) != 0; }

B2 RunB2(Variant variant, bool read, const check::OracleOptions& oracles) {
  Scenario sc(variant);
  sc.options().oracles = oracles;
  sc.Reset();
  g = B2{};
  g.map = storage::CreateMap({});
  g.victim = storage::alloc_task_struct();
  const int s = sc.Spawn("S (sleepable)", 0, [read] {
    RunBpfProgram(ProgKind::kSleepable, [read] {
      void* data = storage::bpf_task_storage_get(g.map, g.victim, nullptr, storage::BPF_LOCAL_STORAGE_GET_F_CREATE,
                                                 storage::bpf_prog_gfp(ProgKind::kSleepable));
      const storage::ValueRef v = storage::bpf_value_ref(data);
      if (!v) return;
      g.got = true;
      storage::bpf_value_write(v, 0, 42);
      __atomic_store_n(&g.slept, 1, __ATOMIC_RELEASE);
      kernel::msleep_model("S faults on a user page");
      if (read) g.read = storage::bpf_value_read(v, 0);
    });
  });
  sc.Spawn("D (delete)", 1, [&sc] {
    sc.sched().WaitFor(&Slept, nullptr, "S is asleep");
    RunBpfProgram(ProgKind::kTracing, [] { g.deleted = storage::bpf_task_storage_delete(g.map, g.victim); });
  });
  sc.choice().SetBackground(s);
  g.status = sc.Run();
  g.finding = FindingName();
  return g;
}

check::OracleOptions AllOracles() { return check::OracleOptions{}; }

// On always-defer-v1 the element is freed while S, asleep, still holds it.
// The oracle names it at the free, before the memory is released, and the
// execution stops there; under TSan the scenario runs in a child that must
// exit cleanly (exit code 0: TSan saw no race, the oracle came first). With
// the oracles off the free goes ahead, and TSan reports it racing with S's
// write before it slept (nothing orders them: no trace grace period).
#ifdef RF_SCENARIO_TSAN
void ChildV1(bool read, check::OracleOptions oracles) {
  RunB2(Variant::kAlwaysDeferV1, read, oracles);
  fprintf(stderr, "scenario finding: %s\n", g.finding.c_str());
  exit(0);
}
#endif

void ExpectV1Finding(bool read, const check::OracleOptions& oracles, const std::string& finding) {
#ifdef RF_SCENARIO_TSAN
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("TSAN_OPTIONS", "halt_on_error=0:exitcode=66:report_signal_unsafe=1", 1);
  EXPECT_EXIT(ChildV1(read, oracles), ::testing::ExitedWithCode(0), "scenario finding: " + finding + "\n");
#else
  const B2 r = RunB2(Variant::kAlwaysDeferV1, read, oracles);
  EXPECT_TRUE(r.got);
  EXPECT_EQ(r.deleted, 0);
  EXPECT_EQ(r.finding, finding) << scenario::Report();
  // Freed by the regular-RCU callback that the work function queued.
  EXPECT_NE(scenario::Report().find("freed by bpf_selem_free_rcu"), std::string::npos) << scenario::Report();
#endif
}

#ifdef RF_SCENARIO_TSAN
TEST(B2, TsanReportsTheFreeRacingWithTheReaderWithoutTheOracles) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("TSAN_OPTIONS", "halt_on_error=0:exitcode=66:report_signal_unsafe=1", 1);
  check::OracleOptions none;
  none.early_free = false;
  none.reader_saw_freed = false;
  EXPECT_EXIT(ChildV1(/*read=*/true, none), ::testing::ExitedWithCode(66),
              "WARNING: ThreadSanitizer: (data race|heap-use-after-free)");
}
#endif

TEST(B2, EarlyFreeOnAlwaysDeferV1EvenWhenTheReaderNeverReads) {
  ExpectV1Finding(/*read=*/false, AllOracles(), "early-free");
}

TEST(B2, EarlyFreeOnAlwaysDeferV1WhenTheReaderReads) { ExpectV1Finding(/*read=*/true, AllOracles(), "early-free"); }

// With early-free off, the age check sees the sleeping reader's pointer die.
TEST(B2, ReaderSawFreedOnAlwaysDeferV1WithoutTheEarlyFreeOracle) {
  check::OracleOptions o;
  o.early_free = false;
  ExpectV1Finding(/*read=*/true, o, "reader-saw-freed");
}

TEST(B2, CleanWhereTheTraceGracePeriodIsKept) {
  for (Variant v : {Variant::kV4, Variant::kV4SrcuFix, Variant::kAlwaysDeferFixed}) {
    for (bool read : {false, true}) {
      const B2 r = RunB2(v, read, AllOracles());
      EXPECT_EQ(r.status, sched::RunStatus::kCompleted) << storage::VariantName(v);
      EXPECT_EQ(r.finding, "none") << storage::VariantName(v) << "\n" << scenario::Report();
      EXPECT_TRUE(r.got);
      EXPECT_EQ(r.deleted, 0) << storage::VariantName(v);
      if (read) EXPECT_EQ(r.read, 42u) << storage::VariantName(v);
    }
  }
}

#ifdef RF_SCENARIO_ASAN
// Every oracle off: the stale read itself is ASan's heap-use-after-free.
void StaleReadOnAlwaysDeferV1() {
  check::OracleOptions o;
  o.early_free = false;
  o.reader_saw_freed = false;
  o.invariants = false;
  RunB2(Variant::kAlwaysDeferV1, /*read=*/true, o);
  fprintf(stderr, "no use-after-free: %s\n", g.finding.c_str());
  exit(0);
}

TEST(B2DeathTest, StaleReadIsAsanHeapUseAfterFreeOnAlwaysDeferV1) {
  EXPECT_DEATH(StaleReadOnAlwaysDeferV1(), "heap-use-after-free");
}
#endif

}  // namespace
}  // namespace reclaimfuzz
