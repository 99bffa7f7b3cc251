// SPDX-License-Identifier: MIT
// Throughput of the virtual machine (Google Benchmark). Speed is measured
// here, never asserted by tests:
//   build/release/engine/vm/machine_bench
//   build/asan/engine/vm/machine_bench
#include <benchmark/benchmark.h>

#include "engine/kernel/compiler.h"
#include "engine/sched/choice_bytes.h"
#include "engine/sched/choice_random.h"
#include "engine/sched/fiber.h"
#include "engine/sched/scheduler.h"
#include "engine/vm/machine.h"

namespace reclaimfuzz {
namespace {

// One round trip main -> fiber -> main.
void BM_FiberSwitchRoundTrip(benchmark::State& state) {
  sched::Fiber f;
  if (!f.Init("bench").ok()) state.SkipWithError("fiber init");
  static bool stop;
  stop = false;
  static sched::Fiber* self;
  self = &f;
  f.Arm(
      [](void*) {
        while (!stop) self->SwitchToMain();
      },
      nullptr);
  for (auto _ : state) f.Enter();
  stop = true;
  f.Enter();
}
BENCHMARK(BM_FiberSwitchRoundTrip);

// One preemption point with a random source consulted 1 time in 8 (no switch
// in the decision: two tasks on one vCPU, the other never preempts).
void BM_PreemptionPointDecision(benchmark::State& state) {
  sched::RandomChoice choice(1, 8);
  sched::Scheduler s;
  sched::Options o;
  o.num_vcpus = 1;
  o.step_budget = ~0ull >> 1;
  o.choice = &choice;
  o.trace_capacity = 1 << 10;
  if (!s.Reset(o).ok()) state.SkipWithError("reset");
  static benchmark::State* st;
  st = &state;
  (void)s.Spawn("pointer", sched::TaskKind::kProcess, 0, [] {
    sched::Scheduler* sc = sched::Scheduler::Current();
    for (auto _ : *st) sc->Point(sched::PointKind::kAccess, "bench");
  });
  s.Run();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PreemptionPointDecision);

// A 2-vCPU litmus program of ~200 steps: two tasks of 50 READ_ONCE +
// WRITE_ONCE increments, with the whole machine (RCU threads, kworkers,
// idle threads) reset for every execution, as the fuzzer does. Argument:
// whether the trace keeps each event's function and operation (1, what
// replays and reports use) or not (0, what a fuzzing run uses).
struct Counter {
  int value = 0;
};
Counter g_counter;

void BM_LitmusExecution(benchmark::State& state) {
  vm::Machine m;
  sched::RandomChoice choice(1, 8);
  vm::MachineOptions o;
  o.sched.num_vcpus = 2;
  o.sched.choice = &choice;
  o.sched.trace_capacity = 1 << 10;
  o.sched.trace_context = state.range(0) != 0;
  o.on_finding = check::OnFinding::kStop;
  uint64_t steps = 0;
  uint64_t seed = 0;
  for (auto _ : state) {
    choice.Reseed(++seed);
    if (!m.Reset(o).ok()) state.SkipWithError("reset");
    g_counter.value = 0;
    for (int cpu = 0; cpu < 2; ++cpu) {
      (void)m.sched().Spawn("incr", sched::TaskKind::kProcess, cpu, [] {
        for (int i = 0; i < 50; ++i) WRITE_ONCE(g_counter.value, READ_ONCE(g_counter.value) + 1);
      });
    }
    m.Run();
    steps += m.sched().step();
  }
  state.counters["executions/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["steps/execution"] =
      static_cast<double>(steps) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}
BENCHMARK(BM_LitmusExecution)->Arg(1)->Arg(0);

}  // namespace
}  // namespace reclaimfuzz

BENCHMARK_MAIN();
