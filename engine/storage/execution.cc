// SPDX-License-Identifier: MIT
#include "engine/storage/execution.h"

#include <cstdio>
#include <cstdlib>

#include "engine/check/accounting.h"
#include "engine/check/teardown.h"
#include "engine/storage/defer.h"
#include "engine/storage/program.h"
#include "engine/storage/world.h"

namespace reclaimfuzz::storage {

namespace owners_internal {
void ResetCaches();
}  // namespace owners_internal

namespace {
Variant g_variant = Variant::kV4;
}  // namespace

Variant current_variant() { return g_variant; }

void Reset(Variant variant) {
  g_variant = variant;
  owners_internal::ResetCaches();
  defer::Reset();
  program::Reset();
  world::Reset();
}

absl::Status ResetExecution(vm::Machine& m, const ExecutionOptions& options) {
  vm::MachineOptions mo;
  mo.sched.num_vcpus = options.num_vcpus;
  mo.sched.step_budget = options.step_budget;
  mo.sched.choice = options.choice;
  mo.sched.trace_capacity = options.trace_capacity;
  mo.sched.trace_context = options.trace_context;
  mo.sched.record_schedule = options.record_schedule;
  mo.sched.native = options.native;
  mo.sched.preempt = options.preempt.value_or(PreemptModelFor(options.variant));
  mo.rcu = RcuSettingsFor(options.variant);
  mo.max_objects = options.max_objects;
  mo.on_finding = options.on_finding;
  mo.variant = VariantName(options.variant);
  if (absl::Status s = m.Reset(mo); !s.ok()) return s;
  Reset(options.variant);
  check::ResetAccounting();
  check::ResetOracles(options.oracles, options.max_objects);
  return absl::OkStatus();
}

sched::RunStatus Teardown(vm::Machine& m, const TeardownOptions& options) {
  sched::Scheduler& s = m.sched();
  auto release_owners = [] {
    for (int i = 0; i < world::NumOwners(); ++i) world::ReleaseOwner(i);
  };
  auto release_maps = [] {
    for (int i = 0; i < world::NumMaps(); ++i) world::ReleaseMap(i);
  };
  absl::Status spawned;
  if (options.concurrent && s.num_vcpus() > 1) {
    spawned = s.Spawn("teardown-owners", sched::TaskKind::kProcess, 0, release_owners).status();
    if (spawned.ok()) {
      spawned = s.Spawn("teardown-maps", sched::TaskKind::kProcess, 1, release_maps).status();
    }
  } else {
    spawned = s.Spawn("teardown", sched::TaskKind::kProcess, 0, [=] {
                 release_owners();
                 release_maps();
               }).status();
  }
  if (!spawned.ok()) {
    fprintf(stderr, "reclaimfuzz: teardown: %s\n", spawned.ToString().c_str());
    abort();
  }
  const sched::RunStatus st = m.Run();
  if (st != sched::RunStatus::kCompleted) return st;
  const bool clean = s.GuardMain([] {
    world::FreeOwners();
    check::CheckTeardown();
  });
  return clean ? sched::RunStatus::kCompleted : sched::RunStatus::kAbandoned;
}

sched::RunStatus RunExecution(vm::Machine& m, const TeardownOptions& options) {
  const sched::RunStatus st = m.Run();
  if (st != sched::RunStatus::kCompleted) return st;
  return Teardown(m, options);
}

}  // namespace reclaimfuzz::storage
