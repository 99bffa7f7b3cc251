// SPDX-License-Identifier: MIT
// B1 (docs/kernel-model.md §6): the per-CPU deferred-free hlist of always-defer-v1
// is written with IRQs on, so a same-CPU hardirq or NMI program that frees
// storage in the middle of hlist_add_head() (or while the work function
// drains the list) loses an entry or corrupts the list. always-defer-fixed
// pushes with llist_add() and must stay clean on the very same schedules.
//
// World of every scenario: one task-storage map, three task owners a, b, c
// with one element each. Program P (vCPU 0) deletes a and b in one tracing
// program; the interrupt program on vCPU 0 deletes c.
#include <set>
#include <string>

#include "engine/sched/choice_scripted.h"
#include "engine/storage/defer.h"
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

struct World {
  bpf_map* map = nullptr;
  task_struct* owner[3] = {};
  long deleted[3] = {1, 1, 1};
};

// Creates the map and the three owners with one element each (main context).
void Populate(World* w) {
  w->map = storage::CreateMap({});
  for (int i = 0; i < 3; ++i) {
    w->owner[i] = storage::alloc_task_struct();
    const u64 value[4] = {static_cast<u64>(i + 1), 0, 0, 0};
    ASSERT_EQ(storage::bpf_pid_task_storage_update_elem(w->map, w->owner[i], value, storage::BPF_NOEXIST), 0);
  }
}

struct Outcome {
  bool fired = false;
  sched::RunStatus status = sched::RunStatus::kCompleted;
  std::string finding;
  long interrupt_delete = 1;
};

enum class Target { kProgram, kWorker };

// P deletes a then b (one tracing program) on vCPU 0; an interrupt program
// of `kind` deletes c on vCPU 0, delivered at the nth point labelled `label`
// of P (or of kworker/0, draining the deferred list after P).
//
// On always-defer-v1 every deleted element is also freed behind a regular
// grace period only (B2), which the early-free oracle reports at the first
// such free; the v1 runs here switch that oracle off to watch the list.
Outcome RunB1(Variant variant, sched::IrqKind kind, Target target, const std::string& label, int nth,
              bool delete_a = true) {
  Scenario sc(variant);
  sc.options().oracles.early_free = variant != Variant::kAlwaysDeferV1;
  sc.Reset();
  static World w;
  w = World{};
  Populate(&w);
  const int p = sc.Spawn("P", 0, [delete_a] {
    RunBpfProgram(ProgKind::kTracing, [delete_a] {
      if (delete_a) w.deleted[0] = storage::bpf_task_storage_delete(w.map, w.owner[0]);
      w.deleted[1] = storage::bpf_task_storage_delete(w.map, w.owner[1]);
    });
  });
  auto interrupt_program = [] {
    RunBpfProgram(ProgKind::kTracing, [] { w.deleted[2] = storage::bpf_task_storage_delete(w.map, w.owner[2]); });
  };
  const int irq = kind == sched::IrqKind::kNmi ? sc.AddNmi(0, "nmi: delete c", interrupt_program)
                                               : sc.AddHardirq(0, "hardirq: delete c", interrupt_program);
  const int at = target == Target::kProgram ? p : sc.TaskNamed("kworker/0");
  sc.choice().Add(label, at, nth, InterruptOption(irq));
  Outcome o;
  o.status = sc.Run();
  o.fired = sc.choice().AllFired();
  o.finding = FindingName();
  o.interrupt_delete = w.deleted[2];
  return o;
}

// ---- the interleavings of the review, one by one ---------------------------

// P is pushing b onto a non-empty list (a is there, with pending set): it
// has linked b->next = a and a->pprev = &b->next, not yet head->first = b.
// The NMI's push finds head->first->pprev pointing into b.
TEST(B1, NmiPushInsideHlistAddHeadCorruptsTheListOnAlwaysDeferV1) {
  // WRITE_ONCE(h->first) points of P: for a, the free-list add, the
  // deferred selem push, the deferred storage push (a's storage is empty);
  // for b, the free-list add and then (5th) the deferred selem push.
  const Outcome o = RunB1(Variant::kAlwaysDeferV1, sched::IrqKind::kNmi, Target::kProgram, "WRITE_ONCE(h->first)", 5);
  ASSERT_TRUE(o.fired);
  EXPECT_EQ(o.finding, "list-corruption") << scenario::Report();
  EXPECT_NE(scenario::Report().find("hlist_add_head"), std::string::npos) << scenario::Report();
}

// The same half-done push on an empty list: the hardirq's entry (c) is
// overwritten by P's head->first = b and never freed.
TEST(B1, HardirqPushInsideHlistAddHeadLosesAnEntryOnAlwaysDeferV1) {
  // P deletes only b: its second WRITE_ONCE(h->first) is the deferred push.
  const Outcome o = RunB1(Variant::kAlwaysDeferV1, sched::IrqKind::kHardirq, Target::kProgram, "WRITE_ONCE(h->first)",
                          2, /*delete_a=*/false);
  ASSERT_TRUE(o.fired);
  EXPECT_EQ(o.interrupt_delete, 0);
  EXPECT_EQ(o.finding, "lost-object") << scenario::Report();
  EXPECT_NE(scenario::Report().find("bpf_local_storage_elem"), std::string::npos) << scenario::Report();
}

// bpf_deferred_free_work_fn() on kworker/0 is unlinking b (the only entry):
// it has read pprev = &head->first and next = NULL. A hardirq program pushes
// c in front of b; the worker's *pprev = next then drops c.
TEST(B1, HardirqPushWhileWorkFnDrainsLosesAnEntryOnAlwaysDeferV1) {
  const Outcome o = RunB1(Variant::kAlwaysDeferV1, sched::IrqKind::kHardirq, Target::kWorker, "WRITE_ONCE(*pprev)", 1,
                          /*delete_a=*/false);
  ASSERT_TRUE(o.fired);
  EXPECT_EQ(o.interrupt_delete, 0);
  EXPECT_EQ(o.finding, "lost-object") << scenario::Report();
}

// ---- every delivery point: v1 fails somewhere, fixed never -----------------

struct Sweep {
  int points = 0;   // delivery points tried (the rule fired)
  int deleted = 0;  // runs where the interrupt's delete succeeded
  std::set<std::string> findings;
};

// Delivers the interrupt at the 1st, 2nd, ... point of the target until the
// target has no more points.
Sweep SweepB1(Variant variant, sched::IrqKind kind, Target target, bool delete_a) {
  Sweep s;
  for (int k = 1; k < 2000; ++k) {
    const Outcome o = RunB1(variant, kind, target, "", k, delete_a);
    if (!o.fired) break;
    ++s.points;
    if (o.interrupt_delete == 0) ++s.deleted;
    if (o.finding != "none") s.findings.insert(o.finding);
  }
  return s;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

TEST(B1Sweep, HardirqAtEveryPointOfTheDeletingProgram) {
  const Sweep v1 = SweepB1(Variant::kAlwaysDeferV1, sched::IrqKind::kHardirq, Target::kProgram,
                           /*delete_a=*/true);
  EXPECT_GT(v1.points, 20);
  EXPECT_TRUE(v1.findings.count("lost-object") || v1.findings.count("list-corruption")) << Join(v1.findings);
  const Sweep fixed =
      SweepB1(Variant::kAlwaysDeferFixed, sched::IrqKind::kHardirq, Target::kProgram, /*delete_a=*/true);
  EXPECT_GT(fixed.points, 20);
  EXPECT_GT(fixed.deleted, fixed.points / 2) << "the interrupt's delete rarely ran";
  EXPECT_TRUE(fixed.findings.empty()) << Join(fixed.findings);
  // The upstream variants have no per-CPU list. With the SRCU fix a hardirq
  // delete is fine; without it, call_rcu_tasks_trace() takes the SRCU
  // spinlock_t in hardirq context, which lockdep's wait-type check rejects
  // just as under the rq lock (B3's cause, reached from an interrupt).
  const Sweep fix = SweepB1(Variant::kV4SrcuFix, sched::IrqKind::kHardirq, Target::kProgram, true);
  EXPECT_GT(fix.deleted, fix.points / 2);
  EXPECT_TRUE(fix.findings.empty()) << Join(fix.findings);
  const Sweep v4 = SweepB1(Variant::kV4, sched::IrqKind::kHardirq, Target::kProgram, true);
  EXPECT_EQ(Join(v4.findings), "invalid-wait-context");
}

TEST(B1Sweep, NmiAtEveryPointOfTheDeletingProgram) {
  const Sweep v1 = SweepB1(Variant::kAlwaysDeferV1, sched::IrqKind::kNmi, Target::kProgram,
                           /*delete_a=*/true);
  EXPECT_TRUE(v1.findings.count("list-corruption") || v1.findings.count("lost-object")) << Join(v1.findings);
  // Where P has not armed the pending flag yet, the NMI arms it and calls
  // call_rcu() itself: not NMI-safe.
  EXPECT_TRUE(v1.findings.count("context-violation")) << Join(v1.findings);
  const Sweep fixed = SweepB1(Variant::kAlwaysDeferFixed, sched::IrqKind::kNmi, Target::kProgram,
                              /*delete_a=*/true);
  EXPECT_GT(fixed.points, 20);
  EXPECT_GT(fixed.deleted, fixed.points / 2);
  EXPECT_TRUE(fixed.findings.empty()) << Join(fixed.findings);
}

TEST(B1Sweep, HardirqAtEveryPointOfTheDeferredFreeWorker) {
  const Sweep v1 = SweepB1(Variant::kAlwaysDeferV1, sched::IrqKind::kHardirq, Target::kWorker,
                           /*delete_a=*/true);
  EXPECT_GT(v1.points, 5);
  EXPECT_TRUE(v1.findings.count("lost-object") || v1.findings.count("list-corruption")) << Join(v1.findings);
  const Sweep fixed = SweepB1(Variant::kAlwaysDeferFixed, sched::IrqKind::kHardirq, Target::kWorker,
                              /*delete_a=*/true);
  EXPECT_GT(fixed.points, 5);
  EXPECT_EQ(fixed.deleted, fixed.points);
  EXPECT_TRUE(fixed.findings.empty()) << Join(fixed.findings);
}

}  // namespace
}  // namespace reclaimfuzz
