// SPDX-License-Identifier: MIT
#include "engine/vm/machine.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/kernel/irq_work.h"
#include "engine/kernel/rqspinlock.h"
#include "engine/kernel/workqueue.h"

namespace reclaimfuzz::vm {

absl::Status Machine::Reset(const MachineOptions& options) {
  options_ = options;
  if (absl::Status s = sched_.Reset(options.sched); !s.ok()) return s;
  check::ClearFinding();
  check::SetOnFinding(options.on_finding);
  check::SetReportVariant(options.variant);
  kernel::slab::Reset(options.max_objects);
  kernel::rqspinlock_reset();
  if (absl::Status s = kernel::irq_work_internal::Reset(sched_); !s.ok()) return s;
  if (absl::Status s = kernel::workqueue::Reset(sched_); !s.ok()) return s;
  if (absl::Status s = rcu::Reset(sched_, options.rcu); !s.ok()) return s;
  return absl::OkStatus();
}

bool Machine::Quiescent() const {
  return rcu::Idle() && kernel::workqueue::Idle() && kernel::irq_work_internal::Idle();
}

sched::RunStatus Machine::Run() {
  sched::RunStatus st = sched_.Run();
  if (st == sched::RunStatus::kHang) {
    // Everything left is blocked: name who waits for what.
    std::string waits;
    for (int i = 0; i < sched_.num_tasks(); ++i) {
      const sched::Task& t = sched_.task(i);
      if (!t.service && t.state == sched::TaskState::kBlocked) {
        absl::StrAppend(&waits, waits.empty() ? "" : ", ", t.name, " waits for ", t.wait_what ? t.wait_what : "?");
      }
    }
    const bool stopped =
        sched_.GuardMain([&] { check::Report(check::kHang, -1, "all tasks blocked: %s", waits.c_str()); });
    if (!stopped) st = sched::RunStatus::kAbandoned;
  }
  return st;
}

}  // namespace reclaimfuzz::vm
