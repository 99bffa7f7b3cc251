// SPDX-License-Identifier: MIT
// Helpers for cross-module tests: a machine per test binary and its
// options. Scripted schedules: engine/sched/choice_scripted.h.
#ifndef RECLAIMFUZZ_TESTS_TEST_SUPPORT_H_
#define RECLAIMFUZZ_TESTS_TEST_SUPPORT_H_

#include <string>

#include "engine/sched/choice.h"
#include "engine/vm/machine.h"

namespace reclaimfuzz::testing {

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
