// SPDX-License-Identifier: MIT
// The virtual machine assembled: scheduler, kernel shim, RCU, and the
// oracle switchboard, reset together for every execution (docs/design.md §3: each
// execution resets all engine state).
//
// Use:
//   Machine m;
//   m.Reset(options);                  // vCPUs, budget, choice source, settings
//   m.sched().Spawn(...); AddInterrupt(...);
//   RunStatus st = m.Run();           // until quiescent, hang, budget or finding
#ifndef RECLAIMFUZZ_ENGINE_VM_MACHINE_H_
#define RECLAIMFUZZ_ENGINE_VM_MACHINE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "engine/kernel/slab.h"
#include "engine/rcu/rcu.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::vm {

struct MachineOptions {
  sched::Options sched;
  rcu::Settings rcu;
  size_t max_objects = kernel::slab::kDefaultMaxObjects;
  check::OnFinding on_finding = check::OnFinding::kAbort;
  const char* variant = "";  // printed in reports
};

class Machine {
 public:
  absl::Status Reset(const MachineOptions& options);
  sched::Scheduler& sched() { return sched_; }

  // Runs until every user task is done and the machine is quiescent (no GP
  // wanted, no callbacks, work or irq_work pending), or a hang, the budget,
  // or a finding. A hang is reported as the finding "hang" when it is one
  // (all tasks blocked), unless the execution already stopped.
  sched::RunStatus Run();

  // True when no GP, callback, work item or irq_work is pending.
  bool Quiescent() const;

 private:
  sched::Scheduler sched_;
  MachineOptions options_;
};

}  // namespace reclaimfuzz::vm

#endif  // RECLAIMFUZZ_ENGINE_VM_MACHINE_H_
