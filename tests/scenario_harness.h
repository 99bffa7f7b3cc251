// SPDX-License-Identifier: MIT
// Hand-built schedules for the storage scenarios: a choice source steered
// by preemption-point labels, and a small wrapper that resets an execution
// for a variant and runs it with teardown.
#ifndef RECLAIMFUZZ_TESTS_SCENARIO_HARNESS_H_
#define RECLAIMFUZZ_TESTS_SCENARIO_HARNESS_H_

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine/report/report.h"
#include "engine/sched/choice.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/execution.h"
#include "engine/vm/machine.h"

namespace reclaimfuzz::scenario {

// Runs `task` (on whichever vCPU the option names: its own first).
inline sched::Option RunTask(int task) {
  sched::Option o;
  o.kind = sched::Option::kRun;
  o.task = static_cast<int16_t>(task);
  return o;
}
inline sched::Option Deliver(int irq) {
  sched::Option o;
  o.kind = sched::Option::kInterrupt;
  o.irq = static_cast<int16_t>(irq);
  return o;
}
// Same decision, whatever vCPU a run option names.
inline bool SameDecision(const sched::Option& a, const sched::Option& b) {
  return a.kind == b.kind && a.task == b.task && a.irq == b.irq;
}

// Fires each rule once, at the nth preemption point of `task` whose label
// contains `label` ("" matches every point), counting only the task's own
// points (not those of interrupts nested on it). A rule whose option is not
// legal at its point fires at the next matching point where it is.
// "Background" tasks run only when nothing else can: a sleeper that stays
// asleep until the rest of the machine is idle. Everything else follows
// DefaultChoice().
class StepChoice : public sched::ChoiceSource {
 public:
  struct Rule {
    std::string label;
    int task = -1;
    int nth = 1;
    sched::Option option;
    int seen = 0;
    bool fired = false;
  };

  void Add(std::string label, int task, int nth, sched::Option option) {
    rules_.push_back(Rule{std::move(label), task, nth, option});
  }
  void SetBackground(int task) { background_.push_back(task); }
  void Clear() {
    rules_.clear();
    background_.clear();
  }
  bool AllFired() const {
    for (const Rule& r : rules_) {
      if (!r.fired) return false;
    }
    return true;
  }

  void Begin(const sched::ExecutionShape&) override {
    for (Rule& r : rules_) {
      r.seen = 0;
      r.fired = false;
    }
  }
  bool Consult(const sched::PointHeader& h) override {
    for (const Rule& r : rules_) {
      if (!r.fired && Matches(r, h)) return true;
    }
    return false;
  }
  size_t Choose(const sched::PointView& v) override {
    for (Rule& r : rules_) {
      if (r.fired || !Matches(r, v.header)) continue;
      if (r.seen < r.nth) ++r.seen;
      if (r.seen < r.nth) continue;
      for (size_t i = 0; i < v.options.size(); ++i) {
        if (SameDecision(v.options[i], r.option)) {
          r.fired = true;
          return i;
        }
      }
    }
    const size_t d = sched::DefaultChoice(v);
    if (v.options[d].kind != sched::Option::kRun || !IsBackground(v.options[d].task)) return d;
    // Prefer, in the default's round-robin order, a task that is not in the
    // background; keep running the current one if that is legal.
    if (v.options[0].kind == sched::Option::kContinue && v.header.kind != sched::PointKind::kSpin &&
        v.header.kind != sched::PointKind::kPick) {
      return 0;
    }
    for (size_t k = 1; k <= v.options.size(); ++k) {
      const size_t i = (d + k) % v.options.size();
      if (v.options[i].kind == sched::Option::kRun && !IsBackground(v.options[i].task)) return i;
    }
    return d;
  }
  std::string Describe() const override { return "scenario steps"; }

 private:
  bool IsBackground(int task) const {
    for (int b : background_) {
      if (b == task) return true;
    }
    return false;
  }
  static bool Matches(const Rule& r, const sched::PointHeader& h) {
    if (h.in_interrupt || h.task < 0) return false;
    if (r.task >= 0 && r.task != h.task) return false;
    return r.label.empty() ||
           (h.label != nullptr && std::strstr(h.label, r.label.c_str()) != nullptr);
  }

  std::vector<Rule> rules_;
  std::vector<int> background_;
};

inline vm::Machine& ScenarioMachine() {
  static vm::Machine* m = new vm::Machine();
  return *m;
}

[[noreturn]] inline void HarnessFail(const std::string& what) {
  fprintf(stderr, "scenario harness: %s\n", what.c_str());
  abort();
}

// One execution of a scenario.
class Scenario {
 public:
  explicit Scenario(storage::Variant variant, int vcpus = 2) {
    options_.variant = variant;
    options_.num_vcpus = vcpus;
    options_.choice = &choice_;
    options_.on_finding = check::OnFinding::kStop;
    options_.step_budget = 400000;
  }

  storage::ExecutionOptions& options() { return options_; }
  StepChoice& choice() { return choice_; }
  vm::Machine& machine() { return ScenarioMachine(); }
  sched::Scheduler& sched() { return ScenarioMachine().sched(); }

  // Resets the machine and the model; create maps and owners after this.
  void Reset() {
    absl::Status s = storage::ResetExecution(ScenarioMachine(), options_);
    if (!s.ok()) HarnessFail(s.ToString());
  }
  int Spawn(const std::string& name, int vcpu, std::function<void()> body) {
    absl::StatusOr<int> id = sched().Spawn(name, sched::TaskKind::kProcess, vcpu, std::move(body));
    if (!id.ok()) HarnessFail(id.status().ToString());
    return *id;
  }
  int AddNmi(int vcpu, const std::string& name, std::function<void()> fn) {
    return AddIrq(sched::IrqKind::kNmi, vcpu, name, std::move(fn));
  }
  int AddHardirq(int vcpu, const std::string& name, std::function<void()> fn) {
    return AddIrq(sched::IrqKind::kHardirq, vcpu, name, std::move(fn));
  }
  // Run + teardown + end-of-execution checks.
  sched::RunStatus Run(const storage::TeardownOptions& t = {}) {
    return storage::RunExecution(ScenarioMachine(), t);
  }
  // Only the tasks, no teardown.
  sched::RunStatus RunTasks() { return ScenarioMachine().Run(); }

  // The machine's task id of a service thread by name ("kworker/0").
  int TaskNamed(const std::string& name) {
    for (int i = 0; i < sched().num_tasks(); ++i) {
      if (sched().task(i).name == name) return i;
    }
    HarnessFail("no task named " + name);
  }

 private:
  int AddIrq(sched::IrqKind kind, int vcpu, const std::string& name, std::function<void()> fn) {
    absl::StatusOr<int> id = sched().AddInterrupt(kind, vcpu, name, std::move(fn));
    if (!id.ok()) HarnessFail(id.status().ToString());
    return *id;
  }

  storage::ExecutionOptions options_;
  StepChoice choice_;
};

inline std::string FindingName() {
  const check::Finding* f = check::LastFinding();
  return f ? f->name : "none";
}

// The full report of the last finding, for failure messages.
inline std::string Report() { return check::FormatReport(); }

// True if the trace holds a note whose label starts with `prefix`.
inline bool TraceHasNote(const char* prefix) {
  for (const sched::Event& e : ScenarioMachine().sched().trace().Events()) {
    if (e.kind == sched::EventKind::kNote && e.label != nullptr &&
        std::strncmp(e.label, prefix, std::strlen(prefix)) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace reclaimfuzz::scenario

#endif  // RECLAIMFUZZ_TESTS_SCENARIO_HARNESS_H_
