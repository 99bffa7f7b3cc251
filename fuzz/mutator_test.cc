// SPDX-License-Identifier: MIT
// The structure-aware mutator: its outputs are canonical inputs, it is
// deterministic, it changes programs, it builds B1's shape from nothing,
// and its schedule edits alone find B1 once the shape is there.
#include "fuzz/mutator.h"

#include <algorithm>
#include <vector>

#include "engine/sched/choice_bytes.h"
#include "fuzz/interpreter.h"
#include "gtest/gtest.h"

namespace reclaimfuzz::fuzz {
namespace {

constexpr size_t kMaxSize = 4096;

std::vector<uint8_t> Mutated(const std::vector<uint8_t>& in, unsigned seed) {
  std::vector<uint8_t> buf(kMaxSize);
  std::copy(in.begin(), in.end(), buf.begin());
  buf.resize(MutateInput(buf.data(), in.size(), kMaxSize, seed, 300, {}, nullptr));
  return buf;
}

TEST(Mutator, OutputsAreCanonicalAndDeterministic) {
  std::vector<uint8_t> input;  // libFuzzer starts from the empty input
  int changed = 0;
  for (unsigned seed = 1; seed <= 5000; ++seed) {
    const std::vector<uint8_t> out = Mutated(input, seed);
    ASSERT_LE(out.size(), kMaxSize);
    ASSERT_EQ(out, Mutated(input, seed)) << "seed " << seed;
    // Decoding and re-encoding gives the same bytes: the mutator never
    // writes an input that means something other than its program.
    ASSERT_EQ(EncodeBinary(DecodeBinary(out)), out) << "seed " << seed;
    changed += DecodeBinary(out) != DecodeBinary(input);
    input = out;  // a chain of mutations, as the fuzzer's corpus grows
    if (input.size() > 1500) input.clear();
  }
  EXPECT_GT(changed, 3500);
}

// Counts ops of one kind in a task's programs or in NMI programs.
int CountOps(const Program& p, OpKind kind, bool in_nmi) {
  int n = 0;
  if (in_nmi) {
    for (const IrqDecl& q : p.irqs) {
      if (q.kind != IrqKind::kNmi) continue;
      for (const Op& op : q.ops) n += op.kind == kind;
    }
    return n;
  }
  for (const TaskDecl& t : p.tasks) {
    for (const Step& s : t.steps) {
      for (const Op& op : s.ops) n += op.kind == kind;
    }
  }
  return n;
}

TEST(Mutator, StructureEditsReachEveryPartOfTheIr) {
  sched::SplitMix64 rng(7);
  Program p;
  Normalize(p);
  bool nmi_delete = false, task_two_deletes = false, second_task = false, hardirq = false, sleepable = false,
       syscall_update = false, release = false, extra_map = false;
  for (int i = 0; i < 20000; ++i) {
    MutateStructure(p, rng);
    nmi_delete |= CountOps(p, OpKind::kDelete, true) > 0;
    task_two_deletes |= CountOps(p, OpKind::kDelete, false) >= 2;
    second_task |= p.tasks.size() >= 2;
    for (const IrqDecl& q : p.irqs) hardirq |= q.kind == IrqKind::kHardirq;
    extra_map |= p.maps.size() >= 2;
    for (const TaskDecl& t : p.tasks) {
      for (const Step& s : t.steps) {
        sleepable |= s.kind == StepKind::kProg && s.prog == ProgKind::kSleepable;
        release |= s.kind != StepKind::kProg;
        for (const Op& op : s.ops) syscall_update |= s.prog == ProgKind::kSyscall && op.kind == OpKind::kUpdate;
      }
    }
    if (i % 200 == 199) {  // start over now and then, as a corpus does
      p = Program{};
      Normalize(p);
    }
  }
  EXPECT_TRUE(nmi_delete);
  EXPECT_TRUE(task_two_deletes);
  EXPECT_TRUE(second_task);
  EXPECT_TRUE(hardirq);
  EXPECT_TRUE(sleepable);
  EXPECT_TRUE(syscall_update);
  EXPECT_TRUE(release);
  EXPECT_TRUE(extra_map);
}

TEST(Mutator, GeneratedProgramsAreValidAndVaried) {
  sched::SplitMix64 rng(3);
  int with_irq = 0, multi_task = 0, with_schedule = 0;
  for (int i = 0; i < 2000; ++i) {
    const Program p = GenerateProgram(rng, 300);
    Program q = p;
    Normalize(q);
    ASSERT_EQ(q, p) << "generated programs are normalized";
    ASSERT_EQ(DecodeBinary(EncodeBinary(p)), p);
    ASSERT_GT(CountOps(q, OpKind::kGet, false) + CountOps(q, OpKind::kDelete, false) +
                  CountOps(q, OpKind::kUpdate, false) + CountOps(q, OpKind::kLookup, false) +
                  CountOps(q, OpKind::kSysDelete, false) + static_cast<int>(q.irqs.size()) +
                  static_cast<int>(q.tasks.size()),
              0);
    with_irq += !p.irqs.empty();
    multi_task += p.tasks.size() > 1;
    with_schedule += !p.schedule.empty();
  }
  EXPECT_GT(with_irq, 1000);
  EXPECT_GT(multi_task, 1000);
  EXPECT_GT(with_schedule, 1500);
}

TEST(Mutator, CrossOverTakesPartsOfTheOtherInput) {
  Program a, b;
  a.tasks.push_back(TaskDecl{0, false, {Step{StepKind::kProg, ProgKind::kTracing, {Op{OpKind::kGet}}, 0}}});
  b.tasks.push_back(TaskDecl{0, false, {Step{StepKind::kProg, ProgKind::kTracing, {Op{OpKind::kDelete}}, 0}}});
  b.irqs.push_back(IrqDecl{IrqKind::kNmi, 0, {Op{OpKind::kDelete}}});
  b.schedule = {{10, 1}};
  const std::vector<uint8_t> ea = EncodeBinary(a), eb = EncodeBinary(b);
  int took = 0;
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::vector<uint8_t> out(kMaxSize);
    const size_t n = CrossOverInputs(ea.data(), ea.size(), eb.data(), eb.size(), out.data(), out.size(), seed);
    ASSERT_GT(n, 0u);
    out.resize(n);
    const Program c = DecodeBinary(out);
    took += CountOps(c, OpKind::kDelete, false) > 0 || !c.irqs.empty() || !c.schedule.empty();
    EXPECT_GE(CountOps(c, OpKind::kGet, false), 1) << "a's own op is kept";
  }
  EXPECT_GT(took, 100);
}

// The half of B1 the schedule edits must do: given the shape (three
// elements, two deletes in a task, a delete in an NMI on the same vCPU),
// schedule mutations alone place the NMI inside the second push.
TEST(Mutator, ScheduleEditsFindB1GivenItsShape) {
  absl::StatusOr<Program> shape = ParseText(R"(vcpus 1
map m0 task
map m1 task
map m2 task
owner o0 task
task cpu 0
  prog tracing
    get m0 o0 create
    get m1 o0 create
    get m2 o0 create
    delete m0 o0
    delete m2 o0
irq nmi cpu 0
  delete m1 o0
)");
  ASSERT_TRUE(shape.ok()) << shape.status();
  AsFuzzTargetsRun(*shape);
  RunOptions o;
  o.variant = storage::Variant::kAlwaysDeferV1;
  // Without a schedule the NMI runs after the task (an early free, B2,
  // which is reported at the end): no list corruption.
  ASSERT_NE(RunProgram(*shape, o).finding, "list-corruption");
  sched::SplitMix64 rng(1);
  int found_at = -1;
  for (int i = 0; i < 20000 && found_at < 0; ++i) {
    Program q = *shape;
    for (int k = 0; k < 3; ++k) MutateSchedule(q, rng, 300);
    if (RunProgram(q, o).finding == "list-corruption") found_at = i;
  }
  EXPECT_GE(found_at, 0) << "schedule mutations never placed the NMI inside the push";
}

// The destroy timeout leak (docs/findings/destroy-timeout-leak.md) needs
// map_free's vCPU stalled for a whole rqspinlock timeout while destroy
// spins: with the spin-waits of the last run, one schedule mutation places
// that stall.
TEST(MutateSchedule, StallsASpinWaitOfTheLastRun) {
  absl::StatusOr<Program> shape = ParseText(R"(vcpus 2
map m0 task
map m1 task
owner o0 task
task cpu 1
  prog tracing
    get m1 o0 create
    get m0 o0 create
  release map m1
task cpu 0
  release owner o0
schedule
  at 71 pick 1
  at 97 pick 1
)");
  ASSERT_TRUE(shape.ok()) << shape.status();
  AsFuzzTargetsRun(*shape);
  sched::BytesChoice bytes;
  bytes.SetEvents(shape->schedule);
  RunOptions o;
  o.variant = storage::Variant::kV4;
  o.choice = &bytes;
  ASSERT_EQ(RunProgram(*shape, o).finding, "none");  // destroy waits, map_free goes on, no timeout
  const std::vector<uint64_t> waits(bytes.wait_starts().begin(), bytes.wait_starts().end());
  ASSERT_FALSE(waits.empty()) << "destroy never spun on the storage lock";
  sched::SplitMix64 rng(1);
  int leaks = 0;
  for (int i = 0; i < 200; ++i) {
    Program q = *shape;
    MutateSchedule(q, rng, 300, waits);
    bytes.SetEvents(q.schedule);
    leaks += RunProgram(q, o).finding == "lost-object";
  }
  EXPECT_GT(leaks, 0) << "no mutation stalled destroy's wait into a timeout";
}

}  // namespace
}  // namespace reclaimfuzz::fuzz
