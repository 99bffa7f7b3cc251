// SPDX-License-Identifier: MIT
// A hand-written schedule, for tests that pin one interleaving: rules "at
// the n-th preemption point of task T whose label contains L, pick option
// O". Everything no rule decides is left to a fallback source (DefaultChoice()
// when none), except that "background" tasks are never the fallback's pick
// while another task can run.
//
//   ScriptedChoice choice;
//   choice.Add("WRITE_ONCE(h->first)", writer, 1, InterruptOption(nmi));
//   choice.Add("READ_ONCE(probe)", a, 2, RunOption(b));  // b, on any vCPU
//   ... run ...
//   EXPECT_TRUE(choice.AllFired());
//
// A rule fires at most once per execution. It counts the points that match
// it (task and label, and the Config's Points) and reach Choose(); from its
// n-th match on it fires at the first point where its option is legal: an
// option that is not legal at the n-th match is retried at each later match
// until it is. Rules are tried in the order they were added; at one point
// only the first that fires counts the point, later ones do not see it.
#ifndef RECLAIMFUZZ_ENGINE_SCHED_CHOICE_SCRIPTED_H_
#define RECLAIMFUZZ_ENGINE_SCHED_CHOICE_SCRIPTED_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/sched/choice.h"

namespace reclaimfuzz::sched {

// As Option::vcpu of a rule's option: whatever vCPU the legal option names.
// A run option of the task's own vCPU comes before one that migrates it to an
// idle vCPU, so RunOption(t) runs t in place when it can.
inline constexpr int8_t kAnyVcpu = -2;

// Run `task` next, on `vcpu` (kAnyVcpu: wherever it may run; -1: a
// housekeeping thread, which has no vCPU).
Option RunOption(int task, int vcpu = kAnyVcpu);
// Deliver interrupt program `irq` now.
Option InterruptOption(int irq);

class ScriptedChoice : public ChoiceSource {
 public:
  // Which preemption points rules see and count.
  enum class Points : uint8_t {
    // Every point that reaches Choose(): a task's own, those of interrupt
    // handlers running nested on it (PointHeader::in_interrupt, with the
    // interrupted task's id), and pick points (task -1; they match only
    // rules for any task).
    kAll,
    // A task's own code only: interrupt handlers nested on it and pick
    // points are neither matched nor counted.
    kTaskOwn,
  };

  struct Config {
    // Decides every point no rule fires at, and sees Begin() and the
    // Consult() of points no unfired rule matches. nullptr: DefaultChoice().
    ChoiceSource* fallback = nullptr;
    Points points = Points::kAll;
  };

  ScriptedChoice() = default;
  explicit ScriptedChoice(Config config) : config_(config) {}

  // At the `nth` (from 1) matching point of `task` (-1: any task) whose label
  // contains `label` ("": every label), pick `option`.
  void Add(std::string label, int task, int nth, Option option);

  // `task` runs only when nothing else can. Where the fallback picks it, the
  // current task continues if it may (not at spin or pick points), else the
  // first run option after the fallback's pick (cyclically) whose task is
  // not in the background runs; the background task only if there is none.
  // Rules may still pick it.
  void SetBackground(int task);

  // Forgets every rule and background task (the Config stays).
  void Clear();

  // True if every rule fired in the last execution.
  bool AllFired() const;

  void Begin(const ExecutionShape& shape) override;
  bool Consult(const PointHeader& header) override;
  size_t Choose(const PointView& view) override;
  std::string Describe() const override;

 private:
  struct Rule {
    std::string label;
    int task = -1;
    int nth = 1;
    Option option;
    int seen = 0;  // matching points counted this execution, up to nth
    bool fired = false;
  };

  bool Matches(const Rule& rule, const PointHeader& header) const;
  bool IsBackground(int task) const;
  // The fallback's pick `chosen`, moved off a background task.
  size_t AvoidBackground(const PointView& view, size_t chosen) const;

  Config config_;
  std::vector<Rule> rules_;
  std::vector<int> background_;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_CHOICE_SCRIPTED_H_
