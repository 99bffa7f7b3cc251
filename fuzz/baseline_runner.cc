// SPDX-License-Identifier: MIT
// baseline_runner: the random testers reclaimfuzz's fuzzer is compared with
// (tools/reclaimfuzz bench). No feedback of any kind: each execution draws a
// fresh random program and runs it on the same engine, variant and oracles
// as the fuzz targets, under a choice source that decides the interleaving:
//
//   --strategy=random    the seeded random choice source (choice_random.h):
//                        at each preemption point, with probability 1/8, a
//                        uniform pick among the legal options (run another
//                        task, deliver an interrupt, ...)
//   --strategy=pct --depth=D   PCT at depth D (choice_pct.h): random task
//                        priorities, D-1 random priority change points,
//                        each interrupt delivered at one random step
//   --strategy=stress    no choice source at all: the scheduler's native
//                        mode (engine/sched/scheduler_native.cc), every
//                        task on a pthread of its own, the OS deciding
//                        who runs, interrupts from a timer thread. The
//                        stress test a kernel developer would write; not
//                        deterministic, so a run is not replayable
//
// A program is drawn directly in the IR (what a user writing a random
// tester for this model would do): 1-4 vCPUs, 1-3 maps and 1-4 owners of
// random kinds, 1-4 tasks of 1-4 steps (BPF programs of a random kind with
// 1-6 random helper calls, now and then an owner or map release), 0-3
// hardirq/NMI programs of 1-4 calls; then Normalize() and the same
// AsFuzzTargetsRun() as the fuzz targets. The program's own schedule events
// are unused: the choice source decides.
//
// It loops until a finding named in --abort_on (comma-separated; empty: any
// finding) or until --cap seconds (or --max_execs executions). Other
// findings are counted and ignored, as in the fuzz targets with
// RECLAIMFUZZ_ABORT_ON. An ASan report (a use-after-free the model's
// oracles did not catch first) ends the process whatever --abort_on says,
// as in the fuzz targets; in the asan build a death callback still prints
// the result line, naming the finding as the fuzz targets do. In the tsan
// build a ThreadSanitizer report during an execution is that execution's
// finding ("tsan:data-race ..."), checked after it.
// The last line on stdout is machine-readable:
//
//   result strategy=pct depth=2 variant=always-defer-v1 seed=7 found=1
//       finding=list-corruption seconds=3.214 execs=18342 ignored=97
//
// (one line). On a finding the report goes to stderr before it.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_HAVE_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#endif

#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "engine/report/report.h"
#include "engine/sched/choice_pct.h"
#include "engine/sched/choice_random.h"
#include "engine/sched/prng.h"
#include "engine/storage/variant.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "fuzz/sanitizer_report.h"

ABSL_FLAG(std::string, variant, "always-defer-v1", "engine variant");
ABSL_FLAG(std::string, strategy, "random", "random, pct or stress");
ABSL_FLAG(int32_t, depth, 2, "PCT depth (--strategy=pct)");
ABSL_FLAG(uint64_t, seed, 1, "seed of this run (programs and schedules)");
ABSL_FLAG(double, cap, 60, "stop after this many seconds without a finding");
ABSL_FLAG(uint64_t, max_execs, 0, "stop after this many executions (0: no limit)");
ABSL_FLAG(int32_t, cpus, 1,
          "--strategy=stress: how many CPUs its threads may use (0: all), taken from the CPUs allowed "
          "starting at the seed's position among them. One by default: the share of the machine every "
          "other single-process strategy gets");
ABSL_FLAG(std::string, abort_on, "", "findings that end the run, comma-separated (empty: any finding)");

namespace {

using reclaimfuzz::fuzz::Program;
using reclaimfuzz::sched::SplitMix64;

// A random program in the IR. Counts are drawn small and uniform; every
// field is uniform over its range; Normalize() then fixes owners to the
// map's kind, as the decoders do.
Program RandomProgram(SplitMix64& rng) {
  namespace f = reclaimfuzz::fuzz;
  Program p;
  p.num_vcpus = static_cast<uint8_t>(1 + rng.Below(4));
  const int maps = 1 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < maps; ++i) {
    f::MapDecl m;
    m.owner = static_cast<f::Owner>(rng.Below(f::kNumOwnerKinds));
    m.spin_lock = rng.OneIn(2);
    m.kptr = rng.OneIn(2);
    p.maps.push_back(m);
  }
  const int owners = 1 + static_cast<int>(rng.Below(4));
  for (int i = 0; i < owners; ++i) {
    p.owners.push_back({static_cast<f::Owner>(rng.Below(f::kNumOwnerKinds))});
  }
  auto random_op = [&] {
    f::Op op;
    op.kind = static_cast<f::OpKind>(rng.Below(f::kNumOpKinds));
    op.map = static_cast<uint8_t>(rng.Below(p.maps.size()));
    op.owner = static_cast<uint8_t>(rng.Below(p.owners.size()));
    op.slot = static_cast<uint8_t>(rng.Below(4));
    op.word = static_cast<uint8_t>(rng.Below(f::kValueWords));
    op.flags = static_cast<uint8_t>(rng.Below(8));
    op.value = static_cast<uint8_t>(rng.Below(256));
    return op;
  };
  const int tasks = 1 + static_cast<int>(rng.Below(4));
  for (int t = 0; t < tasks; ++t) {
    f::TaskDecl task;
    task.vcpu = static_cast<uint8_t>(rng.Below(p.num_vcpus));
    task.migratable = rng.OneIn(4);
    const int steps = 1 + static_cast<int>(rng.Below(4));
    for (int s = 0; s < steps; ++s) {
      f::Step step;
      if (rng.OneIn(8)) {
        step.kind = rng.OneIn(2) ? f::StepKind::kReleaseOwner : f::StepKind::kReleaseMap;
        step.target = static_cast<uint8_t>(rng.Below(8));
      } else {
        step.prog = static_cast<f::ProgKind>(rng.Below(f::kNumProgKinds));
        const int ops = 1 + static_cast<int>(rng.Below(6));
        for (int o = 0; o < ops; ++o) step.ops.push_back(random_op());
      }
      task.steps.push_back(std::move(step));
    }
    p.tasks.push_back(std::move(task));
  }
  const int irqs = static_cast<int>(rng.Below(4));
  for (int i = 0; i < irqs; ++i) {
    f::IrqDecl q;
    q.kind = rng.OneIn(2) ? f::IrqKind::kNmi : f::IrqKind::kHardirq;
    q.vcpu = static_cast<uint8_t>(rng.Below(p.num_vcpus));
    const int ops = 1 + static_cast<int>(rng.Below(4));
    for (int o = 0; o < ops; ++o) q.ops.push_back(random_op());
    p.irqs.push_back(std::move(q));
  }
  f::Normalize(p);
  f::AsFuzzTargetsRun(p);
  return p;
}

// What the result line needs, also from the ASan death callback.
struct State {
  std::string strategy;
  int depth = 0;
  std::string variant;
  uint64_t seed = 0;
  std::chrono::steady_clock::time_point start;
  uint64_t execs = 0;
  uint64_t ignored = 0;
} g;

double Elapsed() { return std::chrono::duration<double>(std::chrono::steady_clock::now() - g.start).count(); }

void PrintResult(bool found, const char* finding) {
  printf(
      "result strategy=%s depth=%d variant=%s seed=%llu found=%d finding=%s seconds=%.3f "
      "execs=%llu ignored=%llu\n",
      g.strategy.c_str(), g.depth, g.variant.c_str(), static_cast<unsigned long long>(g.seed), found ? 1 : 0, finding,
      Elapsed(), static_cast<unsigned long long>(g.execs), static_cast<unsigned long long>(g.ignored));
  fflush(stdout);
}

#ifdef RF_HAVE_ASAN
// An ASan report ends the process: the execution that crashed counts, and
// the result line names it as the fuzz targets do (fuzz/sanitizer_report.h:
// "use-after-free", "asan:deadly-signal" when a corrupted list sends the
// model astray).
void OnSanitizerDeath() {
  ++g.execs;
  PrintResult(true, reclaimfuzz::fuzz::SanitizerDeathName().c_str());
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    fprintf(stderr, "baseline_runner: unexpected argument '%s'\n", rest[1]);
    return 2;
  }
  g.variant = absl::GetFlag(FLAGS_variant);
  absl::StatusOr<reclaimfuzz::storage::Variant> variant = reclaimfuzz::storage::ParseVariant(g.variant);
  if (!variant.ok()) {
    fprintf(stderr, "baseline_runner: %s\n", std::string(variant.status().message()).c_str());
    return 2;
  }
  g.strategy = absl::GetFlag(FLAGS_strategy);
  g.depth = absl::GetFlag(FLAGS_depth);
  g.seed = absl::GetFlag(FLAGS_seed);
  if (g.strategy != "random" && g.strategy != "pct" && g.strategy != "stress") {
    fprintf(stderr, "baseline_runner: unknown --strategy '%s' (random, pct, stress)\n", g.strategy.c_str());
    return 2;
  }
  if (g.strategy == "pct" && (g.depth < 1 || g.depth > 8)) {
    fprintf(stderr, "baseline_runner: --depth must be 1 to 8, not %d\n", g.depth);
    return 2;
  }
  if (g.strategy != "pct") g.depth = 0;
  const bool stress = g.strategy == "stress";
  const int cpus = absl::GetFlag(FLAGS_cpus);
  if (cpus < 0) {
    fprintf(stderr, "baseline_runner: --cpus must be 0 or more, not %d\n", cpus);
    return 2;
  }
  if (stress && cpus > 0) {
    // Threads created later inherit the mask.
    cpu_set_t allowed, use;
    CPU_ZERO(&use);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
      std::vector<int> ids;
      for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &allowed)) ids.push_back(c);
      }
      // Runs of consecutive seeds (bench's jobs) land on different CPUs.
      for (size_t k = 0; k < ids.size() && k < static_cast<size_t>(cpus); ++k) {
        CPU_SET(ids[(g.seed + k) % ids.size()], &use);
      }
      if (!ids.empty() && sched_setaffinity(0, sizeof(use), &use) != 0) perror("baseline_runner: sched_setaffinity");
    }
  }
  std::vector<std::string> abort_on = absl::StrSplit(absl::GetFlag(FLAGS_abort_on), ',', absl::SkipEmpty());
  const double cap = absl::GetFlag(FLAGS_cap);
  const uint64_t max_execs = absl::GetFlag(FLAGS_max_execs);

  // Programs and schedules from two streams of the one seed.
  SplitMix64 programs(g.seed * 0x9e3779b97f4a7c15ull + 1);
  std::unique_ptr<reclaimfuzz::sched::ChoiceSource> choice;
  reclaimfuzz::sched::RandomChoice* random = nullptr;
  if (g.strategy == "random") {
    auto r = std::make_unique<reclaimfuzz::sched::RandomChoice>(g.seed);
    random = r.get();
    choice = std::move(r);
  } else if (!stress) {
    choice = std::make_unique<reclaimfuzz::sched::PctChoice>(g.seed, g.depth);
  }
  SplitMix64 reseed(g.seed ^ 0x5bd1e995ull);

#ifdef RF_HAVE_ASAN
  __sanitizer_set_death_callback(&OnSanitizerDeath);
#endif
  g.start = std::chrono::steady_clock::now();
  // A person watching (stderr a terminal) sees a line every 10 s.
  const bool progress = isatty(2) != 0;
  double next_progress = 10;
  for (;;) {
    if (max_execs != 0 && g.execs >= max_execs) break;
    // The clock is read every 64 executions (each is tens of microseconds).
    if ((g.execs & 63) == 0) {
      const double now = Elapsed();
      if (now >= cap) break;
      if (progress && now >= next_progress) {
        fprintf(stderr, "%s: %.0f s of %.0f, %llu executions, %llu findings ignored\n", g.strategy.c_str(), now, cap,
                static_cast<unsigned long long>(g.execs), static_cast<unsigned long long>(g.ignored));
        next_progress = now + 10;
      }
    }
    Program p = RandomProgram(programs);
    // A real tree runs a program as its fuzz target does (task storage
    // only, no kptr fields).
    if (reclaimfuzz::storage::IsRealTree(*variant)) reclaimfuzz::fuzz::AsFuzzTargetsRun(p, *variant);
    if (random != nullptr) random->Reseed(reseed.Next());
    reclaimfuzz::fuzz::RunOptions o;
    o.variant = *variant;
    o.choice = choice.get();
    o.on_finding = reclaimfuzz::check::OnFinding::kStop;
    o.trace_capacity = 1 << 10;
    o.native.enabled = stress;
    if (stress) o.native.seed = reseed.Next();
    reclaimfuzz::fuzz::SetReportInput(&p, *variant);
    reclaimfuzz::fuzz::RunResult r = reclaimfuzz::fuzz::RunProgram(p, o);
    ++g.execs;
    if (r.finding == "none" && reclaimfuzz::fuzz::SanitizerReportedDuringRun()) {
      r.finding = reclaimfuzz::fuzz::SanitizerDeathName();
    }
    bool aborts = abort_on.empty();
    for (const std::string& a : abort_on) aborts |= a == r.finding;
    if (r.finding == "none" || !aborts) {
      if (r.finding != "none") ++g.ignored;
      // Ends the execution's tasks now: in the stress mode, its threads.
      reclaimfuzz::fuzz::ReleaseLastRun();
      continue;
    }
    const std::string report = reclaimfuzz::check::FormatReport();
    reclaimfuzz::fuzz::ReleaseLastRun();
    fwrite(report.data(), 1, report.size(), stderr);
    fflush(stderr);
    PrintResult(true, r.finding.c_str());
    return 1;
  }
  PrintResult(false, "none");
  return 0;
}
