// SPDX-License-Identifier: MIT
// Helpers for cross-module tests: a machine per test binary, and a choice
// source that fires on named preemption points.
#ifndef RECLAIMFUZZ_TESTS_TEST_SUPPORT_H_
#define RECLAIMFUZZ_TESTS_TEST_SUPPORT_H_

#include <cstring>
#include <string>
#include <vector>

#include "engine/sched/choice.h"
#include "engine/vm/machine.h"

namespace reclaimfuzz::testing {

inline constexpr int8_t kAnyVcpu = -2;  // RunTask(): wherever the task may run

// Fires scripted decisions at preemption points whose label matches
// (substring), in the given task, on the n-th match; otherwise delegates to
// `fallback` (or DefaultChoice when none).
class ScriptedChoice : public sched::ChoiceSource {
 public:
  struct Rule {
    std::string label;     // substring of the point's label
    int task = -1;         // -1: any task
    int nth = 1;           // fire on the n-th matching point
    sched::Option option;  // what to pick (must be legal there)
    int seen = 0;
    bool fired = false;
  };

  explicit ScriptedChoice(sched::ChoiceSource* fallback = nullptr) : fallback_(fallback) {}

  void Add(std::string label, int task, int nth, sched::Option option) {
    rules_.push_back(Rule{std::move(label), task, nth, option});
  }
  bool AllFired() const {
    for (const Rule& r : rules_) {
      if (!r.fired) return false;
    }
    return true;
  }

  void Begin(const sched::ExecutionShape& shape) override {
    for (Rule& r : rules_) {
      r.seen = 0;
      r.fired = false;
    }
    if (fallback_) fallback_->Begin(shape);
  }
  bool Consult(const sched::PointHeader& h) override {
    for (Rule& r : rules_) {
      if (!r.fired && Matches(r, h)) return true;
    }
    return fallback_ ? fallback_->Consult(h) : false;
  }
  size_t Choose(const sched::PointView& v) override {
    for (Rule& r : rules_) {
      if (r.fired || !Matches(r, v.header)) continue;
      if (++r.seen < r.nth) continue;
      for (size_t i = 0; i < v.options.size(); ++i) {
        sched::Option want = r.option;
        // RunTask(task) without a vCPU: the first option running that task
        // (in place before migration).
        if (want.kind == sched::Option::kRun && want.vcpu == kAnyVcpu) want.vcpu = v.options[i].vcpu;
        if (v.options[i] == want) {
          r.fired = true;
          return i;
        }
      }
    }
    return fallback_ ? fallback_->Choose(v) : sched::DefaultChoice(v);
  }
  std::string Describe() const override { return "scripted"; }

 private:
  static bool Matches(const Rule& r, const sched::PointHeader& h) {
    return (r.task < 0 || r.task == h.task) && h.label != nullptr &&
           std::strstr(h.label, r.label.c_str()) != nullptr;
  }
  std::vector<Rule> rules_;
  sched::ChoiceSource* fallback_;
};

inline sched::Option RunTask(int task, int vcpu = kAnyVcpu) {
  return sched::Option{sched::Option::kRun, static_cast<int16_t>(task), -1, static_cast<int8_t>(vcpu)};
}
inline sched::Option Interrupt(int irq) {
  return sched::Option{sched::Option::kInterrupt, -1, static_cast<int16_t>(irq), -1};
}

// One machine per process, reset by each test.
inline vm::Machine& TestMachine() {
  static vm::Machine* m = new vm::Machine();
  return *m;
}

inline vm::MachineOptions Options(sched::ChoiceSource* choice, int vcpus = 2) {
  vm::MachineOptions o;
  o.sched.num_vcpus = vcpus;
  o.sched.choice = choice;
  o.on_finding = check::OnFinding::kStop;
  return o;
}

inline std::string FindingName() {
  const check::Finding* f = check::LastFinding();
  return f ? f->name : "none";
}

}  // namespace reclaimfuzz::testing

#endif  // RECLAIMFUZZ_TESTS_TEST_SUPPORT_H_
