// SPDX-License-Identifier: MIT
// Runs a Program on the storage model of one variant: creates its maps and
// owners, spawns its tasks and interrupt programs, runs them under a choice
// source (the program's own schedule by default), tears down, and returns
// the verdict.
//
// Ops that make no sense where they stand are skipped, as the verifier
// would reject them rather than the kernel misbehave: sleep outside a
// sleepable program, syscall ops outside a syscall "program", helper ops in
// one, inode helpers in interrupt context, a read of a value not held.
#ifndef RECLAIMFUZZ_FUZZ_INTERPRETER_H_
#define RECLAIMFUZZ_FUZZ_INTERPRETER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/check/reclaim.h"
#include "engine/report/report.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/variant.h"
#include "fuzz/program.h"

namespace reclaimfuzz::fuzz {

struct RunOptions {
  storage::Variant variant = storage::Variant::kV4;
  // nullptr: the program's own schedule (BytesChoice over p.schedule).
  sched::ChoiceSource* choice = nullptr;
  uint64_t step_budget = 200000;
  check::OnFinding on_finding = check::OnFinding::kStop;
  bool record_schedule = false;
  size_t trace_capacity = sched::Trace::kDefaultCapacity;
  // Events keep the function and BPF operation (sched::Trace::Reset):
  // off only where no timeline is read.
  bool trace_context = true;
  check::OracleOptions oracles;
  // Overrides the variant's preemption model (storage::PreemptModelFor()).
  std::optional<sched::PreemptModel> preempt;
  // Real trees: allocations the kernel may fail are a schedule choice.
  bool allocation_failure = true;
  // Runs the tasks on native threads (sched::NativeOptions): the stress
  // baseline; `choice` is not used, and nothing is deterministic.
  sched::NativeOptions native;
};

struct RunResult {
  sched::RunStatus status = sched::RunStatus::kCompleted;
  std::string finding = "none";  // stable finding name, or "none"
  uint64_t trace_hash = 0;
  uint64_t steps = 0;
};

RunResult RunProgram(const Program& p, const RunOptions& options);

// What the fuzz targets change in a program before running it, so that
// replay, minimize and triage reach the same verdicts: on a real-tree
// variant every map and owner is a task's and no map has a kptr (those
// trees build only task storage, CheckProgramFor()).
void AsFuzzTargetsRun(Program& p, storage::Variant v = storage::Variant::kV4);

// Whether `v` can run `p` as it stands: real trees run only task storage
// without kptrs, and only trees this build compiled. The error names what
// the tree lacks.
absl::Status CheckProgramFor(const Program& p, storage::Variant v);

// Whether this build can run `v`: every model variant, and the real trees
// it compiled.
bool VariantBuilt(storage::Variant v);

// The machine of the last RunProgram() (timeline, schedule, trace).
sched::Scheduler& LastScheduler();

// Ends the tasks of the last RunProgram() (sched::Scheduler::ReclaimTasks):
// for a fuzz target done with an execution. Its timeline and trace are not
// to be read after.
void ReleaseLastRun();

}  // namespace reclaimfuzz::fuzz

#endif  // RECLAIMFUZZ_FUZZ_INTERPRETER_H_
