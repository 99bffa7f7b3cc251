// SPDX-License-Identifier: MIT
// One execution of the storage model: reset everything for a variant, run
// the harness's tasks, then tear down and run the end-of-execution checks.
//
//   vm::Machine m;
//   ExecutionOptions o; o.variant = ...; o.choice = &choice;
//   ResetExecution(m, o);
//   bpf_map* map = CreateMap({...}); task_struct* t = alloc_task_struct();
//   m.sched().Spawn(...); m.sched().AddInterrupt(...);
//   sched::RunStatus st = RunExecution(m);   // Run + Teardown
//   check::LastFinding() ...
//
// Teardown (every execution): a process-context task releases every owner
// (free hooks: destroy) and every map (map_free: synchronize_rcu, nofail
// unlinks, barriers); the machine runs to quiescence (grace periods,
// callbacks, work, irq_work drained); then, in the main context, the owners'
// memory is freed and check/teardown.h looks for lost objects and unbalanced
// charges.
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_EXECUTION_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_EXECUTION_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "engine/check/reclaim.h"
#include "engine/kernel/slab.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/variant.h"
#include "engine/vm/machine.h"

namespace reclaimfuzz::storage {

struct ExecutionOptions {
  Variant variant = Variant::kV4;
  int num_vcpus = 2;
  // Shared by the harness's tasks and the teardown that follows them.
  uint64_t step_budget = 200000;
  sched::ChoiceSource* choice = nullptr;  // required
  bool record_schedule = false;
  size_t trace_capacity = sched::Trace::kDefaultCapacity;
  bool trace_context = true;  // sched::Options::trace_context
  check::OnFinding on_finding = check::OnFinding::kAbort;
  check::OracleOptions oracles;
  size_t max_objects = kernel::slab::kDefaultMaxObjects;
  // Overrides the variant's preemption model (PreemptModelFor()).
  std::optional<sched::PreemptModel> preempt;
  // Native threads instead of the deterministic scheduler (choice unused).
  sched::NativeOptions native;
};

// Resets the machine (with the variant's RCU settings and name for
// reports), the storage model, the world and the oracles.
absl::Status ResetExecution(vm::Machine& m, const ExecutionOptions& options);

// Resets only the storage model's own state for `variant` (caches,
// per-CPU deferred lists, rq locks, the world). ResetExecution() calls it.
void Reset(Variant variant);

struct TeardownOptions {
  // Release owners and maps from two tasks on two vCPUs, so that the
  // schedule decides how destroy and map_free interleave.
  bool concurrent = false;
};

// Tears down after a completed run and runs the end-of-execution checks.
// Returns kCompleted when clean, kAbandoned on a finding, or how the
// teardown run ended (kHang, kBudget).
sched::RunStatus Teardown(vm::Machine& m, const TeardownOptions& options = {});

// m.Run(), then Teardown() if every task completed.
sched::RunStatus RunExecution(vm::Machine& m, const TeardownOptions& options = {});

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_EXECUTION_H_
