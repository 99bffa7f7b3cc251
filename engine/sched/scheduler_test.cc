// SPDX-License-Identifier: MIT
// Unit tests of the scheduler alone (no kernel shim): API errors, budget,
// hang, choice sources, fibers.
#include "engine/sched/scheduler.h"

#include <vector>

#include "engine/sched/choice_bytes.h"
#include "engine/sched/choice_pct.h"
#include "engine/sched/choice_random.h"
#include "engine/sched/choice_replay.h"
#include "gtest/gtest.h"

namespace reclaimfuzz::sched {
namespace {

Options Opts(ChoiceSource* c, int vcpus = 2, uint64_t budget = 10000) {
  Options o;
  o.num_vcpus = vcpus;
  o.step_budget = budget;
  o.choice = c;
  return o;
}

TEST(SchedulerApi, BadOptionsAreClearErrors) {
  RandomChoice c(1);
  Scheduler s;
  absl::Status st = s.Reset(Opts(&c, 5));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("1 to 4"), absl::string_view::npos) << st;
  EXPECT_EQ(s.Reset(Opts(&c, 0)).code(), absl::StatusCode::kInvalidArgument);
  st = s.Reset(Opts(&c, 2, 0));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("step_budget"), absl::string_view::npos) << st;
  EXPECT_EQ(s.Reset(Opts(nullptr)).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SchedulerApi, SpawnAndInterruptArgumentsAreChecked) {
  RandomChoice c(1);
  Scheduler s;
  ASSERT_TRUE(s.Reset(Opts(&c, 2)).ok());
  absl::StatusOr<int> t = s.Spawn("t", TaskKind::kProcess, 2, [] {});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("vCPU 2"), absl::string_view::npos);
  EXPECT_FALSE(s.Spawn("t", TaskKind::kProcess, 0, nullptr).ok());
  EXPECT_FALSE(s.AddInterrupt(IrqKind::kNmi, 3, "n", [] {}).ok());
  for (int i = 0; i < kMaxTasks; ++i) ASSERT_TRUE(s.Spawn("t", TaskKind::kProcess, 0, [] {}).ok());
  EXPECT_EQ(s.Spawn("one too many", TaskKind::kProcess, 0, [] {}).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(Scheduler, TasksRunToCompletionOnTheirVcpus) {
  RandomChoice c(5, 2);
  Scheduler s;
  ASSERT_TRUE(s.Reset(Opts(&c, 3)).ok());
  std::vector<int> seen(3, -1);
  for (int cpu = 0; cpu < 3; ++cpu) {
    ASSERT_TRUE(s.Spawn("t", TaskKind::kProcess, cpu, [&seen, &s, cpu] {
                   for (int i = 0; i < 5; ++i) s.Point(PointKind::kAccess, "work");
                   seen[cpu] = s.current_vcpu();
                 }).ok());
  }
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
}

TEST(Scheduler, BudgetCutsAnEndlessTask) {
  RandomChoice c(1);
  Scheduler s;
  ASSERT_TRUE(s.Reset(Opts(&c, 1, 500)).ok());
  ASSERT_TRUE(s.Spawn("spinner", TaskKind::kProcess, 0, [&s] {
                 for (;;) s.Point(PointKind::kAccess, "loop");
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kBudget);
  EXPECT_GE(s.step(), 500u);
  // The abandoned fiber is reusable by the next execution.
  ASSERT_TRUE(s.Reset(Opts(&c, 1, 500)).ok());
  bool ran = false;
  ASSERT_TRUE(s.Spawn("after", TaskKind::kProcess, 0, [&ran] { ran = true; }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  EXPECT_TRUE(ran);
}

bool Never(void*) { return false; }

TEST(Scheduler, AllBlockedIsAHang) {
  RandomChoice c(1);
  Scheduler s;
  ASSERT_TRUE(s.Reset(Opts(&c, 1)).ok());
  ASSERT_TRUE(s.Spawn("waiter", TaskKind::kProcess, 0, [&s] { s.WaitFor(&Never, nullptr, "never"); }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kHang);
}

bool FlagSet(void* arg) { return __atomic_load_n(static_cast<bool*>(arg), __ATOMIC_SEQ_CST); }

TEST(Scheduler, WaitForWakesWhenPredicateHolds) {
  RandomChoice c(3);
  Scheduler s;
  ASSERT_TRUE(s.Reset(Opts(&c, 2)).ok());
  bool flag = false;
  int order = 0, waiter_at = 0, setter_at = 0;
  ASSERT_TRUE(s.Spawn("waiter", TaskKind::kProcess, 0, [&] {
                 EXPECT_TRUE(s.WaitFor(&FlagSet, &flag, "flag"));
                 waiter_at = __atomic_add_fetch(&order, 1, __ATOMIC_SEQ_CST);
               }).ok());
  ASSERT_TRUE(s.Spawn("setter", TaskKind::kProcess, 1, [&] {
                 s.Point(PointKind::kAccess, "before");
                 setter_at = __atomic_add_fetch(&order, 1, __ATOMIC_SEQ_CST);
                 __atomic_store_n(&flag, true, __ATOMIC_SEQ_CST);
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  EXPECT_LT(setter_at, waiter_at);
}

// Runs two tasks of 30 points each under `c`; returns the order in which
// points were passed, as task ids. (Atomics: the two tasks are concurrent
// to ThreadSanitizer, as they are to the model.)
std::vector<int> Interleaving(ChoiceSource* c) {
  static Scheduler* s = new Scheduler();
  static int order[64];
  static int n;
  n = 0;
  EXPECT_TRUE(s->Reset(Opts(c, 2)).ok());
  for (int cpu = 0; cpu < 2; ++cpu) {
    EXPECT_TRUE(s->Spawn("t", TaskKind::kProcess, cpu, [] {
                   for (int i = 0; i < 30; ++i) {
                     const int slot = __atomic_fetch_add(&n, 1, __ATOMIC_RELAXED);
                     __atomic_store_n(&order[slot], Scheduler::Current()->current_task(), __ATOMIC_RELAXED);
                     Scheduler::Current()->Point(PointKind::kAccess, "p");
                   }
                 }).ok());
  }
  EXPECT_EQ(s->Run(), RunStatus::kCompleted);
  return std::vector<int>(order, order + n);
}

int Switches(const std::vector<int>& order) {
  int n = 0;
  for (size_t i = 1; i < order.size(); ++i) n += order[i] != order[i - 1];
  return n;
}

TEST(ChoiceSources, BytesEventsFireAtTheirSteps) {
  // One event at step 10: switch to the other task (option 1).
  BytesChoice none;
  EXPECT_EQ(Switches(Interleaving(&none)), 1);  // default: run to completion
  BytesChoice one(std::vector<ScheduleEvent>{{10, 1}});
  const std::vector<int> order = Interleaving(&one);
  EXPECT_EQ(Switches(order), 2);
  EXPECT_NE(order[8], order[10]);
  // Encoding round-trips.
  const std::vector<uint8_t> bytes = BytesChoice::Encode({{10, 1}, {70000, 2}});
  BytesChoice decoded(absl::MakeConstSpan(bytes));
  ASSERT_EQ(decoded.events().size(), 3u);  // a gap > 0xffff takes a hop
  EXPECT_EQ(decoded.events()[0].step, 10u);
  EXPECT_EQ(decoded.events()[2].step, 70000u);
  EXPECT_EQ(decoded.events()[2].action, 2);
}

// Task 0 passes three ordinary points, then spins (a kSpin point per
// iteration) until task 1 sets a flag; an ordinary point after `relax_at`
// spins, if set. Task 2, a bystander on vCPU 2, passes two points. Returns
// task 0's spins; `first_spin` gets the step of its first spin point.
int SpinsUntilReleased(ChoiceSource* c, int relax_at = -1, uint64_t* first_spin = nullptr) {
  Scheduler s;
  EXPECT_TRUE(s.Reset(Opts(c, 3)).ok());
  int released = 0, spins = 0;
  EXPECT_TRUE(s.Spawn("waiter", TaskKind::kProcess, 0, [&] {
                 for (int i = 0; i < 3; ++i) s.Point(PointKind::kAccess, "start");
                 while (__atomic_load_n(&released, __ATOMIC_ACQUIRE) == 0 && spins < 1000) {
                   if (++spins == relax_at) s.Point(PointKind::kAccess, "relax");
                   if (spins == 1 && first_spin != nullptr) *first_spin = s.step() + 1;
                   s.Point(PointKind::kSpin, "spin");
                 }
               }).ok());
  EXPECT_TRUE(s.Spawn("holder", TaskKind::kProcess, 1, [&] {
                 s.Point(PointKind::kAccess, "release");
                 __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
               }).ok());
  EXPECT_TRUE(s.Spawn("bystander", TaskKind::kProcess, 2, [&] {
                 for (int i = 0; i < 2; ++i) s.Point(PointKind::kAccess, "bystander");
               }).ok());
  EXPECT_EQ(s.Run(), RunStatus::kCompleted);
  return spins;
}

TEST(ChoiceSources, BytesContinueAtASpinPointStallsTheOthersForATimeout) {
  BytesChoice none;
  uint64_t at = 0;
  EXPECT_EQ(SpinsUntilReleased(&none, -1, &at), 1);  // default at a spin: the other task runs
  ASSERT_GT(at, 1u);
  // "continue" at the first spin: nothing else runs for kStallSpinPoints
  // spin points, then the default again.
  BytesChoice stall(std::vector<ScheduleEvent>{{at, 0}});
  EXPECT_EQ(SpinsUntilReleased(&stall), kStallSpinPoints + 1);
  // The next event ends a stall early...
  BytesChoice cut(std::vector<ScheduleEvent>{{at, 0}, {at + 8, 1}});
  EXPECT_EQ(SpinsUntilReleased(&cut), 9);
  // ... and so does the end of the wait: a point that is not a spin.
  BytesChoice relax(std::vector<ScheduleEvent>{{at, 0}});
  EXPECT_EQ(SpinsUntilReleased(&relax, 5), 5);
  // "continue" at an ordinary point is one decision, not a stall.
  BytesChoice plain(std::vector<ScheduleEvent>{{at - 1, 0}});
  EXPECT_EQ(SpinsUntilReleased(&plain), 1);
  // A stall ends when its spinner is left by an event (here: run the
  // bystander, which does not release the waiter): the next spin is the
  // default's again.
  BytesChoice left(std::vector<ScheduleEvent>{{at, 0}, {at + 3, 2}});
  EXPECT_EQ(SpinsUntilReleased(&left), 5);
}

TEST(ChoiceSources, RandomIsSeededAndPctDepthOneNeverPreempts) {
  RandomChoice a(42, 3), b(42, 3), c(43, 3);
  const std::vector<int> oa = Interleaving(&a);
  EXPECT_EQ(oa, Interleaving(&b));
  EXPECT_NE(oa, Interleaving(&c));
  EXPECT_GT(Switches(oa), 3);
  // PCT depth 1: the highest-priority task runs to its end, then the other.
  PctChoice pct(9, 1);
  EXPECT_EQ(Switches(Interleaving(&pct)), 1);
  PctChoice pct3(9, 3, 60);
  EXPECT_LE(Switches(Interleaving(&pct3)), 3);  // at most d-1 change points, plus the end
}

TEST(ChoiceSources, ReplayParseErrorsNameTheToken) {
  absl::StatusOr<std::vector<Decision>> d = ReplayChoice::Parse("s1:run2 s5:jump3");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("token 2"), absl::string_view::npos) << d.status();
  EXPECT_FALSE(ReplayChoice::Parse("s9:cont s3:cont").ok());
  d = ReplayChoice::Parse("s1:run2@1 s3:run8 s5:irq0 s9:cont");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(ReplayChoice::Format(*d), "s1:run2@1 s3:run8 s5:irq0 s9:cont");
  EXPECT_FALSE(ReplayChoice::Parse("s1:run2@x").ok());
}

TEST(Trace, TimelineHasAColumnPerVcpu) {
  RandomChoice c(8, 3);
  Scheduler s;
  ASSERT_TRUE(s.Reset(Opts(&c, 2)).ok());
  for (int cpu = 0; cpu < 2; ++cpu) {
    ASSERT_TRUE(s.Spawn(cpu == 0 ? "alpha" : "beta", TaskKind::kProcess, cpu, [&s] {
                   for (int i = 0; i < 4; ++i) s.Point(PointKind::kAccess, "hlist_add_head");
                 }).ok());
  }
  ASSERT_EQ(s.Run(), RunStatus::kCompleted);
  const std::string tl = s.Timeline();
  EXPECT_NE(tl.find("cpu0"), std::string::npos);
  EXPECT_NE(tl.find("cpu1"), std::string::npos);
  EXPECT_NE(tl.find("alpha"), std::string::npos);
  EXPECT_NE(tl.find("beta"), std::string::npos);
  EXPECT_NE(tl.find("hlist_add_head"), std::string::npos);
}

}  // namespace
}  // namespace reclaimfuzz::sched
