// SPDX-License-Identifier: MIT
// Context rules (docs/design.md §1): call_rcu(), call_rcu_tasks_trace() and kfree()
// are not NMI-safe, and a spinlock_t may not be taken in hardirq context.
// Tracing programs run in NMI and hardirq and call the storage helpers, so
// the upstream free paths reach call_rcu*() from there. These are findings
// of the upstream variants (upstream later made bpf_selem_unlink() return
// -EOPNOTSUPP in NMI, commit 350de5b8a9be, "bpf: Do not allow deleting
// local storage in NMI"; the update error path below is not covered by it).
// always-defer-fixed must stay clean.
#include <string>

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
using sched::InterruptOption;
using storage::bpf_map;
using storage::ProgKind;
using storage::RunBpfProgram;
using storage::task_struct;
using storage::u64;
using storage::Variant;

struct Ctx {
  bpf_map* map[3] = {};
  task_struct* busy = nullptr;    // the task's own target
  task_struct* victim = nullptr;  // the interrupt's target
  long irq_result = 1;
  bool irq_got = true;
  long task_result = 1;
};
Ctx c;

void Populate() {
  c = Ctx{};
  for (auto& m : c.map) m = storage::CreateMap({});
  c.busy = storage::alloc_task_struct();
  c.victim = storage::alloc_task_struct();
  const u64 value[4] = {1, 2, 3, 4};
  ASSERT_EQ(storage::bpf_pid_task_storage_update_elem(c.map[0], c.busy, value, storage::BPF_ANY), 0);
  ASSERT_EQ(storage::bpf_pid_task_storage_update_elem(c.map[0], c.victim, value, storage::BPF_ANY), 0);
}

// A task runs a tracing program on vCPU 0; an interrupt program of `kind`
// deletes the victim's element as soon as the task's program has started.
std::string RunInterruptDelete(Variant variant, sched::IrqKind kind, bool early_free = true) {
  Scenario sc(variant);
  sc.options().oracles.early_free = early_free;
  sc.Reset();
  Populate();
  const int t = sc.Spawn("T", 0, [] {
    RunBpfProgram(ProgKind::kTracing,
                  [] { c.task_result = storage::bpf_task_storage_get(c.map[0], c.busy, nullptr, 0, 0) ? 0 : -1; });
  });
  auto prog = [] {
    RunBpfProgram(ProgKind::kTracing, [] { c.irq_result = storage::bpf_task_storage_delete(c.map[0], c.victim); });
  };
  const int irq =
      kind == sched::IrqKind::kNmi ? sc.AddNmi(0, "nmi: delete", prog) : sc.AddHardirq(0, "hardirq: delete", prog);
  sc.choice().Add("rcu_read_lock", t, 1, InterruptOption(irq));
  sc.Run();
  EXPECT_TRUE(sc.choice().AllFired());
  return FindingName();
}

TEST(ContextRules, NmiDeleteReachesCallRcuTasksTraceOnV4) {
  for (Variant v : {Variant::kV4, Variant::kV4SrcuFix}) {
    EXPECT_EQ(RunInterruptDelete(v, sched::IrqKind::kNmi), "context-violation") << storage::VariantName(v);
    EXPECT_NE(scenario::Report().find("call_rcu_tasks_trace() called from NMI"), std::string::npos)
        << scenario::Report();
    EXPECT_NE(scenario::Report().find("(NMI)"), std::string::npos) << scenario::Report();
  }
}

TEST(ContextRules, NmiDeleteReachesCallRcuOnAlwaysDeferV1) {
  // The NMI finds the pending flag clear and arms it: call_rcu() in NMI.
  EXPECT_EQ(RunInterruptDelete(Variant::kAlwaysDeferV1, sched::IrqKind::kNmi), "context-violation");
  EXPECT_NE(scenario::Report().find("call_rcu() called from NMI"), std::string::npos) << scenario::Report();
}

TEST(ContextRules, NmiDeleteIsCleanOnAlwaysDeferFixed) {
  EXPECT_EQ(RunInterruptDelete(Variant::kAlwaysDeferFixed, sched::IrqKind::kNmi), "none") << scenario::Report();
  EXPECT_EQ(c.irq_result, 0);
  EXPECT_EQ(c.task_result, 0);
}

// In hardirq context call_rcu*() is legal, but v4's call_rcu_tasks_trace()
// takes a spinlock_t, which lockdep rejects in hardirq as under a raw lock.
TEST(ContextRules, HardirqDeleteIsInvalidWaitContextOnlyOnV4) {
  EXPECT_EQ(RunInterruptDelete(Variant::kV4, sched::IrqKind::kHardirq), "invalid-wait-context") << scenario::Report();
  EXPECT_NE(scenario::Report().find("hardirq context"), std::string::npos) << scenario::Report();
  for (Variant v : {Variant::kV4SrcuFix, Variant::kAlwaysDeferFixed}) {
    EXPECT_EQ(RunInterruptDelete(v, sched::IrqKind::kHardirq), "none") << storage::VariantName(v) << "\n"
                                                                       << scenario::Report();
    EXPECT_EQ(c.irq_result, 0);
  }
  // v1: only B2's early free (its oracle off here) remains.
  EXPECT_EQ(RunInterruptDelete(Variant::kAlwaysDeferV1, sched::IrqKind::kHardirq, false), "none") << scenario::Report();
}

// The task updates map 1 of `busy` under busy's storage lock when an NMI
// program asks for map 2 of the same task with F_CREATE: its update
// allocates a selem (kmalloc_nolock, NMI-safe), fails to lock (rqspinlock
// AA: -EDEADLK) and frees the never-published selem with reuse_now=true,
// i.e. call_rcu() from NMI. bpf_selem_unlink's NMI check does not cover it.
std::string RunNmiCreateDuringUpdate(Variant variant) {
  Scenario sc(variant);
  sc.Reset();
  Populate();
  const int t = sc.Spawn("T (update)", 0, [] {
    const u64 value[4] = {5, 6, 7, 8};
    RunBpfProgram(ProgKind::kSyscall, [&] {
      c.task_result = storage::bpf_pid_task_storage_update_elem(c.map[1], c.busy, value, storage::BPF_ANY);
    });
  });
  const int nmi = sc.AddNmi(0, "nmi: get F_CREATE", [] {
    RunBpfProgram(ProgKind::kTracing, [] {
      c.irq_got = storage::bpf_task_storage_get(c.map[2], c.busy, nullptr, storage::BPF_LOCAL_STORAGE_GET_F_CREATE,
                                                storage::bpf_prog_gfp(ProgKind::kTracing)) != nullptr;
    });
  });
  // READ_ONCE(h->first) of T: hlist_empty() before, then under, L_s.
  sc.choice().Add("READ_ONCE(h->first)", t, 2, InterruptOption(nmi));
  sc.Run();
  EXPECT_TRUE(sc.choice().AllFired());
  return FindingName();
}

TEST(ContextRules, NmiCreateFailingOnTheStorageLockCallsCallRcuFromNmiUpstream) {
  for (Variant v : {Variant::kV4, Variant::kV4SrcuFix, Variant::kAlwaysDeferV1}) {
    EXPECT_EQ(RunNmiCreateDuringUpdate(v), "context-violation") << storage::VariantName(v);
    EXPECT_NE(scenario::Report().find("call_rcu() called from NMI"), std::string::npos) << scenario::Report();
  }
}

TEST(ContextRules, NmiCreateFailingOnTheStorageLockIsCleanOnAlwaysDeferFixed) {
  EXPECT_EQ(RunNmiCreateDuringUpdate(Variant::kAlwaysDeferFixed), "none") << scenario::Report();
  EXPECT_FALSE(c.irq_got);  // -EDEADLK: the helper returned NULL
  EXPECT_EQ(c.task_result, 0);
}

}  // namespace
}  // namespace reclaimfuzz
