// SPDX-License-Identifier: MIT
// Hand-built schedules for the storage scenarios: a small wrapper that
// resets an execution for a variant and runs it with teardown, steered by a
// ScriptedChoice (engine/sched/choice_scripted.h) that sees only the tasks'
// own preemption points.
#ifndef RECLAIMFUZZ_TESTS_SCENARIO_HARNESS_H_
#define RECLAIMFUZZ_TESTS_SCENARIO_HARNESS_H_

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "engine/report/report.h"
#include "engine/sched/choice_scripted.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/execution.h"
#include "engine/vm/machine.h"

namespace reclaimfuzz::scenario {

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
  // `fallback` decides every point no rule of choice() fires at (nullptr:
  // DefaultChoice()).
  explicit Scenario(storage::Variant variant, int vcpus = 2, sched::ChoiceSource* fallback = nullptr)
      : choice_(
            sched::ScriptedChoice::Config{.fallback = fallback, .points = sched::ScriptedChoice::Points::kTaskOwn}) {
    options_.variant = variant;
    options_.num_vcpus = vcpus;
    options_.choice = &choice_;
    options_.on_finding = check::OnFinding::kStop;
    options_.step_budget = 400000;
  }

  storage::ExecutionOptions& options() { return options_; }
  sched::ScriptedChoice& choice() { return choice_; }
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
  sched::RunStatus Run(const storage::TeardownOptions& t = {}) { return storage::RunExecution(ScenarioMachine(), t); }
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
  // Interrupt handlers nested on a task do not count as its points.
  sched::ScriptedChoice choice_;
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
