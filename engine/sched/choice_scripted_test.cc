// SPDX-License-Identifier: MIT
// Unit tests of the scripted choice source: rule matching and counting,
// option matching (kAnyVcpu), retries, interrupt-nested and pick points,
// the fallback, background tasks; and one run on the scheduler.
#include "engine/sched/choice_scripted.h"

#include <atomic>
#include <vector>

#include "engine/sched/scheduler.h"
#include "gtest/gtest.h"

namespace reclaimfuzz::sched {
namespace {

constexpr Option kCont{Option::kContinue, -1, -1, -1};

PointHeader At(int task, const char* label, PointKind kind = PointKind::kAccess, bool in_interrupt = false) {
  static uint64_t step = 0;
  return PointHeader{++step, task, task < 0 ? -1 : 0, kind, in_interrupt, label};
}

// Consult() and, when it says so or the point must be decided anyway (spin
// and pick points), Choose(), as the scheduler does. Returns the index
// picked (DefaultChoice() when not consulted).
size_t Point(ChoiceSource& c, const PointHeader& h, const std::vector<Option>& opts) {
  PointView v{h, absl::MakeConstSpan(opts)};
  if (h.kind != PointKind::kSpin && h.kind != PointKind::kPick && !c.Consult(h)) {
    return DefaultChoice(v);
  }
  return c.Choose(v);
}

TEST(ScriptedChoice, RuleFiresAtTheNthMatchOfItsTaskAndLabelOnly) {
  ScriptedChoice c;
  c.Add("probe", 1, 2, RunOption(2));
  c.Begin({});
  const std::vector<Option> opts = {kCont, RunOption(2, 0)};
  EXPECT_FALSE(c.Consult(At(0, "READ_ONCE(probe)")));  // another task
  EXPECT_EQ(c.Choose({At(0, "READ_ONCE(probe)"), opts}), 0u);
  EXPECT_FALSE(c.Consult(At(1, "READ_ONCE(other)")));  // another label
  EXPECT_TRUE(c.Consult(At(1, "READ_ONCE(probe)")));
  EXPECT_EQ(Point(c, At(1, "READ_ONCE(probe)"), opts), 0u);  // first match
  EXPECT_FALSE(c.AllFired());
  EXPECT_EQ(Point(c, At(1, "READ_ONCE(probe)"), opts), 1u);  // second: fires
  EXPECT_TRUE(c.AllFired());
  EXPECT_FALSE(c.Consult(At(1, "READ_ONCE(probe)")));  // once per execution
  EXPECT_EQ(c.Choose({At(1, "READ_ONCE(probe)"), opts}), 0u);

  // A new execution counts from zero again.
  c.Begin({});
  EXPECT_FALSE(c.AllFired());
  EXPECT_EQ(Point(c, At(1, "READ_ONCE(probe)"), opts), 0u);
  EXPECT_EQ(Point(c, At(1, "READ_ONCE(probe)"), opts), 1u);

  c.Clear();
  c.Begin({});
  EXPECT_FALSE(c.Consult(At(1, "READ_ONCE(probe)")));
}

TEST(ScriptedChoice, EmptyLabelAndAnyTaskMatchEveryPoint) {
  ScriptedChoice c;
  c.Add("", -1, 3, InterruptOption(0));
  c.Begin({});
  const std::vector<Option> opts = {kCont, InterruptOption(0)};
  EXPECT_EQ(Point(c, At(0, "a"), opts), 0u);
  EXPECT_EQ(Point(c, At(1, "b"), opts), 0u);
  EXPECT_EQ(Point(c, At(2, "c"), opts), 1u);
}

TEST(ScriptedChoice, IllegalOptionIsRetriedAtEachLaterMatchUntilLegal) {
  ScriptedChoice c;
  c.Add("probe", 0, 1, RunOption(2));
  c.Begin({});
  EXPECT_EQ(Point(c, At(0, "probe"), {kCont, RunOption(3, 1)}), 0u);  // 2 cannot run here
  EXPECT_FALSE(c.AllFired());
  EXPECT_TRUE(c.Consult(At(0, "probe")));
  EXPECT_EQ(Point(c, At(0, "probe"), {kCont}), 0u);
  EXPECT_EQ(Point(c, At(0, "probe"), {kCont, RunOption(3, 1), RunOption(2, 1)}), 2u);
  EXPECT_TRUE(c.AllFired());
}

TEST(ScriptedChoice, AnyVcpuTakesTheTasksFirstRunOptionAnExactVcpuOnlyThatOne) {
  // Task 2 in place on vCPU 0, or migrated to idle vCPU 1.
  const std::vector<Option> opts = {kCont,           RunOption(1, 0),    RunOption(2, 0),
                                    RunOption(2, 1), InterruptOption(0), InterruptOption(1)};
  struct Case {
    Option want;
    size_t picked;
  };
  for (const Case& k : {Case{RunOption(2), 2}, Case{RunOption(2, 1), 3}, Case{RunOption(2, 0), 2},
                        Case{RunOption(2, 3), 0}, Case{RunOption(4), 0}, Case{InterruptOption(1), 5}, Case{kCont, 0}}) {
    ScriptedChoice c;
    c.Add("p", 0, 1, k.want);
    c.Begin({});
    EXPECT_EQ(Point(c, At(0, "p"), opts), k.picked)
        << "task " << k.want.task << " vcpu " << int{k.want.vcpu} << " irq " << k.want.irq;
    EXPECT_EQ(c.AllFired(), k.picked != 0 || k.want.kind == Option::kContinue);
  }
}

TEST(ScriptedChoice, TaskOwnPointsSkipInterruptHandlersAndPickPoints) {
  ScriptedChoice all;
  ScriptedChoice own(ScriptedChoice::Config{.points = ScriptedChoice::Points::kTaskOwn});
  for (ScriptedChoice* c : {&all, &own}) {
    c->Add("probe", 1, 2, InterruptOption(0));
    c->Add("", -1, 1, RunOption(3));
    c->Begin({});
  }
  const std::vector<Option> opts = {kCont, InterruptOption(0)};
  // A pick point belongs to no task: only `all` sees it.
  EXPECT_EQ(Point(all, At(-1, "pick", PointKind::kPick), {RunOption(1, 0), RunOption(3, 1)}), 1u);
  EXPECT_EQ(Point(own, At(-1, "pick", PointKind::kPick), {RunOption(1, 0), RunOption(3, 1)}), 0u);
  EXPECT_FALSE(own.Consult(At(1, "probe", PointKind::kAccess, /*in_interrupt=*/true)));

  EXPECT_EQ(Point(all, At(1, "probe"), opts), 0u);
  EXPECT_EQ(Point(own, At(1, "probe"), opts), 0u);
  // A hardirq handler nested on task 1 reaches the same label.
  EXPECT_EQ(Point(all, At(1, "probe", PointKind::kAccess, true), opts), 1u);
  EXPECT_EQ(Point(own, At(1, "probe", PointKind::kAccess, true), opts), 0u);
  EXPECT_TRUE(all.AllFired());
  EXPECT_FALSE(own.AllFired());
  EXPECT_EQ(Point(own, At(1, "probe"), opts), 1u);
}

// Picks the last option; counts what it was asked.
class LastOption : public ChoiceSource {
 public:
  void Begin(const ExecutionShape&) override { ++begins; }
  bool Consult(const PointHeader&) override {
    ++consults;
    return true;
  }
  size_t Choose(const PointView& view) override {
    ++chooses;
    return view.options.size() - 1;
  }
  std::string Describe() const override { return "last"; }
  int begins = 0, consults = 0, chooses = 0;
};

TEST(ScriptedChoice, FallbackDecidesEveryPointNoRuleFiresAt) {
  LastOption last;
  ScriptedChoice c(ScriptedChoice::Config{.fallback = &last});
  c.Add("probe", 0, 2, RunOption(1));
  c.Begin({});
  EXPECT_EQ(last.begins, 1);
  const std::vector<Option> opts = {kCont, RunOption(1, 0), RunOption(2, 1)};
  EXPECT_TRUE(c.Consult(At(0, "other")));  // the fallback's answer
  EXPECT_EQ(last.consults, 1);
  EXPECT_TRUE(c.Consult(At(0, "probe")));  // the rule's: the fallback is not asked
  EXPECT_EQ(last.consults, 1);
  EXPECT_EQ(c.Choose({At(0, "probe"), opts}), 2u);  // first match: the fallback picks
  EXPECT_EQ(c.Choose({At(0, "probe"), opts}), 1u);  // second: the rule
  EXPECT_EQ(last.chooses, 1);
  EXPECT_EQ(c.Choose({At(0, "probe"), opts}), 2u);
  EXPECT_EQ(last.chooses, 2);
  EXPECT_NE(c.Describe().find("last"), std::string::npos) << c.Describe();
}

TEST(ScriptedChoice, BackgroundTaskRunsOnlyWhenNothingElseCan) {
  ScriptedChoice c;
  c.SetBackground(1);
  c.Begin({});
  // Round-robin after no task would pick 1; 2 runs instead.
  EXPECT_EQ(Point(c, At(-1, "pick", PointKind::kPick), {RunOption(1, 0), RunOption(2, 1)}), 1u);
  // At a spin point of 0 the default is the next task, 1: again 2.
  EXPECT_EQ(Point(c, At(0, "spin", PointKind::kSpin), {kCont, RunOption(1, 0), RunOption(2, 1)}), 2u);
  // Alone, it runs.
  EXPECT_EQ(Point(c, At(-1, "pick", PointKind::kPick), {RunOption(1, 0)}), 0u);
  EXPECT_EQ(Point(c, At(0, "spin", PointKind::kSpin), {kCont, RunOption(1, 0)}), 1u);

  // A fallback that picks it at an ordinary point: the current task continues.
  LastOption last;
  ScriptedChoice f(ScriptedChoice::Config{.fallback = &last});
  f.SetBackground(1);
  f.Begin({});
  EXPECT_EQ(Point(f, At(0, "x"), {kCont, RunOption(2, 1), RunOption(1, 0)}), 0u);
  EXPECT_EQ(Point(f, At(0, "x"), {kCont, RunOption(1, 0), RunOption(2, 1)}), 2u);  // not background

  // A rule may still pick it.
  ScriptedChoice r;
  r.SetBackground(1);
  r.Add("x", 0, 1, RunOption(1));
  r.Begin({});
  EXPECT_EQ(Point(r, At(0, "x"), {kCont, RunOption(1, 0), RunOption(2, 1)}), 1u);
}

// On the scheduler: a rule preempts A at its second "step" to run B on the
// same vCPU; without it A runs to its end first. Each task writes only its
// own slots (fibers are threads to TSan); an atomic clock orders them.
TEST(ScriptedChoice, PinsAPreemptionOnTheScheduler) {
  for (bool scripted : {false, true}) {
    ScriptedChoice c;
    Scheduler s;
    Options o;
    o.num_vcpus = 1;
    o.choice = &c;
    ASSERT_TRUE(s.Reset(o).ok());
    std::atomic<int> clock{0};
    int a_at[3] = {-1, -1, -1};
    int b_at = -1;
    absl::StatusOr<int> a = s.Spawn("A", TaskKind::kProcess, 0, [&] {
      for (int& at : a_at) {
        s.Point(PointKind::kAccess, "step");
        at = clock.fetch_add(1);
      }
    });
    absl::StatusOr<int> b = s.Spawn("B", TaskKind::kProcess, 0, [&] { b_at = clock.fetch_add(1); });
    ASSERT_TRUE(a.ok() && b.ok());
    if (scripted) c.Add("step", *a, 2, RunOption(*b));
    ASSERT_EQ(s.Run(), RunStatus::kCompleted);
    EXPECT_TRUE(c.AllFired());
    EXPECT_EQ(a_at[0], 0);
    EXPECT_EQ(b_at, scripted ? 1 : 3) << "B ran after " << (scripted ? "A's first step" : "A");
    EXPECT_EQ(a_at[2], scripted ? 3 : 2);
  }
}

}  // namespace
}  // namespace reclaimfuzz::sched
