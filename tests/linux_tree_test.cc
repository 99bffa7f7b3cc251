// SPDX-License-Identifier: MIT
// The real-tree engine: Debian's 6.1 and 6.12 bpf_local_storage.c and
// bpf_task_storage.c, compiled unmodified against engine/linux's shim and
// driven only through their entry points (the map ops, the helpers'
// BPF_CALL functions, bpf_task_storage_free()).
//
//   - the syscall and helper semantics a user of the map sees;
//   - 6.1's per-CPU busy counter: a same-CPU task that runs while another is
//     inside a storage helper gets -EBUSY;
//   - task exit and map_free racing: every object freed exactly once;
//   - the map_free finding (corpus/storage_linux_*_fuzz/regression): the
//     generic oracle reports reader-saw-freed, and with it off ASan reports
//     the use-after-free;
//   - the map_free fix (patches/linux-*/map-free-tasks-trace.patch, the
//     variants <tree>+map-free-fix): the reproducer replays clean, and random
//     schedules of its actors find nothing where the unfixed tree's do;
//     freeing only the storage behind Tasks Trace is not enough.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/check/reclaim.h"
#include "engine/check/teardown.h"
#include "engine/kernel/context.h"
#include "engine/kernel/slab.h"
#include "engine/kernel/workqueue.h"
#include "engine/linux/runtime.h"
#include "engine/linux/trees.h"
#include "engine/rcu/rcu.h"
#include "engine/report/report.h"
#include "engine/sched/choice_random.h"
#include "engine/sched/choice_scripted.h"
#include "engine/storage/execution.h"
#include "engine/storage/program.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "gtest/gtest.h"
#include "tests/program_files.h"
#include "tests/test_support.h"

namespace reclaimfuzz {
namespace {

namespace fs = std::filesystem;
using storage::Variant;

constexpr long kEEXIST = 17, kENOENT = 2, kEBUSY = 16, kEBADF = 9;
constexpr unsigned kGfpAtomic = 1u << 0, kGfpKernel = 1u << 1;

using testing::LoadText;

Variant Named(const char* name) { return *storage::ParseVariant(name); }

// In the ThreadSanitizer build a variant that has the map_free bug races in
// TSan's eyes whenever a schedule reaches it (the free is not ordered after
// the sleepable reader's accesses): there the random-schedule tests run the
// unfixed variants in a child process and assert that TSan reports it
// (ExpectTsanReports), and count findings on the fixed ones in-process.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kTsanBuild = true;
#else
constexpr bool kTsanBuild = false;
#endif
#else
constexpr bool kTsanBuild = false;
#endif

fs::path Regression(Variant v) {
  return fs::path(RF_SOURCE_DIR) / "corpus" / ("storage_" + storage::VariantIdent(v) + "_fuzz") / "regression" /
         "reader-saw-freed.txt";
}

vm::Machine& M() {
  static vm::Machine* m = new vm::Machine();
  return *m;
}

// A machine with one tree, two tasks (pidfds 0 and 1) and one map, for
// tests that call the tree's entry points themselves.
class Tree : public ::testing::TestWithParam<Variant> {
 protected:
  void Start(sched::ChoiceSource* choice, sched::PreemptModel preempt = sched::PreemptModel::kVoluntary) {
    info_ = linux_tree::FindTree(storage::VariantName(GetParam()));
    ASSERT_NE(info_, nullptr) << "this build has no " << storage::VariantName(GetParam());
    t_ = info_->tree;
    storage::ExecutionOptions eo;
    eo.variant = GetParam();
    eo.num_vcpus = 2;
    eo.choice = choice;
    eo.on_finding = check::OnFinding::kStop;
    eo.preempt = preempt;
    ASSERT_TRUE(storage::ResetExecution(M(), eo).ok());
    linux_tree::ResetRuntime(2);
    linux_tree::ResetMemAlloc();
    linux_tree::SetAllocationFailure(false);
    tasks_[0] = t_->task_alloc(0);
    tasks_[1] = t_->task_alloc(1);
    linux_tree::SetTaskTable(tasks_, 2);
    int err = 0;
    map_ = t_->map_create(32, 0, &err);
    ASSERT_NE(map_, nullptr) << "map_alloc: " << err;
  }

  // Exits both tasks and frees the map (in a kworker), runs the machine
  // to quiescence and checks that every object was freed once.
  void Teardown() {
    ASSERT_TRUE(M().sched()
                    .Spawn("teardown", sched::TaskKind::kProcess, 0,
                           [this] {
                             t_->task_release(tasks_[0]);
                             t_->task_release(tasks_[1]);
                             tasks_[0] = tasks_[1] = nullptr;
                             kernel::INIT_WORK(&free_work_, &FreeMap);
                             g_map = map_;
                             g_tree = t_;
                             kernel::queue_work_on(1, kernel::system_wq, &free_work_);
                           })
                    .ok());
    EXPECT_EQ(M().Run(), sched::RunStatus::kCompleted) << check::FormatReport();
    EXPECT_TRUE(M().sched().GuardMain([] { check::CheckTeardown(); })) << check::FormatReport();
    EXPECT_EQ(check::LastFinding(), nullptr) << check::FormatReport();
  }

  static void FreeMap(kernel::work_struct*) { g_tree->map_free(g_map); }
  static inline void* g_map = nullptr;
  static inline const rf_tree* g_tree = nullptr;

  const linux_tree::TreeInfo* info_ = nullptr;
  const rf_tree* t_ = nullptr;
  void* tasks_[2] = {};
  void* map_ = nullptr;
  kernel::work_struct free_work_;
};

std::string Name(const ::testing::TestParamInfo<Variant>& info) { return storage::VariantIdent(info.param); }

TEST_P(Tree, SyscallAndHelperSemantics) {
  sched::RandomChoice none(1, /*switch_one_in=*/0);
  Start(&none);
  long r[8] = {};
  void* got[3] = {};
  uint64_t word = 0;
  ASSERT_TRUE(M().sched()
                  .Spawn("T0", sched::TaskKind::kProcess, 0,
                         [&] {
                           uint64_t v[4] = {7, 7, 7, 7};
                           storage::RunBpfProgram(storage::ProgKind::kSyscall, [&] {
                             r[0] = t_->update_elem(map_, 0, v, /*BPF_NOEXIST*/ 1);
                             r[1] = t_->update_elem(map_, 0, v, 1);
                             r[2] = t_->update_elem(map_, 1, v, /*BPF_EXIST*/ 2);
                             long err = 0;
                             got[0] = t_->lookup_elem(map_, 0, &err);
                             if (got[0] != nullptr) word = static_cast<uint64_t*>(got[0])[1];
                             got[1] = t_->lookup_elem(map_, 5, &err);
                             r[3] = err;
                             r[4] = t_->delete_elem(map_, 0);
                             r[5] = t_->delete_elem(map_, 0);
                           });
                           storage::RunBpfProgram(storage::ProgKind::kTracing, [&] {
                             got[2] = t_->helper_get(map_, tasks_[1], v, /*F_CREATE*/ 1, kGfpAtomic, t_->has_recur);
                             r[6] = t_->helper_delete(map_, tasks_[1], t_->has_recur);
                             r[7] = t_->helper_delete(map_, tasks_[1], t_->has_recur);
                           });
                         })
                  .ok());
  ASSERT_EQ(M().Run(), sched::RunStatus::kCompleted) << check::FormatReport();
  EXPECT_EQ(r[0], 0);
  EXPECT_EQ(r[1], -kEEXIST);
  EXPECT_EQ(r[2], -kENOENT);
  EXPECT_NE(got[0], nullptr);
  EXPECT_EQ(word, 7u);
  EXPECT_EQ(got[1], nullptr);
  EXPECT_EQ(r[3], -kEBADF);
  EXPECT_EQ(r[4], 0);
  EXPECT_EQ(r[5], -kENOENT);
  EXPECT_NE(got[2], nullptr);
  EXPECT_EQ(r[6], 0);
  EXPECT_EQ(r[7], -kENOENT);
  Teardown();
}

// A task inside bpf_task_storage_get() holds this CPU's busy counter; a
// task of the same CPU that runs meanwhile cannot take it: its delete
// returns -EBUSY. On 6.1 the holder sleeps in bpf_map_kzalloc(GFP_KERNEL)
// (voluntary preemption is enough); on 6.12 the element comes from the
// bpf_mem_alloc cache without sleeping, so the holder is preempted (full
// preemption) in its lookup.
TEST_P(Tree, BusyCounterGivesEbusyToASameCpuTask) {
  sched::ScriptedChoice script;
  const bool bpf_ma = GetParam() == Named("linux-6.12");
  Start(&script, bpf_ma ? sched::PreemptModel::kFull : sched::PreemptModel::kVoluntary);
  long busy = 1;
  void* created = nullptr;
  absl::StatusOr<int> t0 = M().sched().Spawn("T0", sched::TaskKind::kProcess, 0, [&] {
    uint64_t v[4] = {1, 1, 1, 1};
    // 6.12's delete looks the element up before it checks the counter.
    if (bpf_ma) storage::RunBpfProgram(storage::ProgKind::kSyscall, [&] { t_->update_elem(map_, 0, v, 1); });
    storage::RunBpfProgram(storage::ProgKind::kSleepable,
                           [&] { created = t_->helper_get(map_, tasks_[0], v, 1, kGfpKernel, t_->has_recur); });
  });
  ASSERT_TRUE(t0.ok());
  absl::StatusOr<int> t1 = M().sched().Spawn("T1", sched::TaskKind::kProcess, 0, [&] {
    storage::RunBpfProgram(storage::ProgKind::kTracing,
                           [&] { busy = t_->helper_delete(map_, tasks_[0], t_->has_recur); });
  });
  ASSERT_TRUE(t1.ok());
  // 6.1: where the helper sleeps; 6.12: its lookup, after the trylock.
  script.Add(bpf_ma ? "task->bpf_storage" : "kmalloc(GFP_KERNEL)", *t0, 1, sched::RunOption(*t1, 0));
  ASSERT_EQ(M().Run(), sched::RunStatus::kCompleted) << check::FormatReport();
  EXPECT_TRUE(script.AllFired()) << "T1 never ran inside T0's helper";
  EXPECT_EQ(busy, -kEBUSY);
  EXPECT_NE(created, nullptr);
  Teardown();
}

// Task exit (bpf_task_storage_free() after the task's grace period) and
// map_free race from two vCPUs over random schedules: no finding, and the
// teardown check finds every element and storage freed exactly once.
TEST_P(Tree, TaskExitAndMapFreeRaceFreeEachObjectOnce) {
  const fuzz::Program p = *fuzz::ParseText(R"(vcpus 2
map m0 task
map m1 task
owner o0 task
owner o1 task
task cpu 0
  prog syscall
    update m0 o0 noexist value 1
    update m1 o0 noexist value 2
    update m0 o1 noexist value 3
  release owner o0
  release owner o1
task cpu 1
  prog tracing
    get m1 o1 create
  release map m0
  release map m1
)");
  int completed = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    sched::RandomChoice random(seed);
    fuzz::RunOptions o;
    o.variant = GetParam();
    o.choice = &random;
    const fuzz::RunResult r = fuzz::RunProgram(p, o);
    ASSERT_EQ(r.finding, "none") << "seed " << seed << "\n" << check::FormatReport();
    if (r.status == sched::RunStatus::kCompleted) ++completed;
  }
  EXPECT_GT(completed, 150);  // the check ran in most executions
}

// Owner lifetime as the kernel's (fuzz/interpreter.cc, docs/kernel-model.md
// §3): a task's exit waits for no program; the programs that reached it
// under RCU are waited for by the grace period after the exit, and a
// sleepable program's caller holds a reference, whose put may be the last.

// The step at which task `name` returned, or UINT64_MAX.
uint64_t DoneStep(const sched::Scheduler& s, const std::vector<sched::Event>& events, const std::string& name) {
  for (const sched::Event& e : events) {
    if (e.kind == sched::EventKind::kDone && e.task >= 0 && s.task(e.task).name == name) return e.step;
  }
  return UINT64_MAX;
}

// The slab object of the (only) task_struct, after the run.
const kernel::slab::Object* TaskStruct() {
  for (size_t i = 0; i < kernel::slab::NumObjects(); ++i) {
    const kernel::slab::Object* o = kernel::slab::Get(static_cast<int64_t>(i));
    if (o != nullptr && std::strcmp(o->alloc_site, "rf_task_alloc") == 0) return o;
  }
  return nullptr;
}

// `p` on `v` under the seeded random schedule `seed`, full preemption.
fuzz::RunResult RunFullPreemption(const fuzz::Program& p, Variant v, uint64_t seed) {
  sched::RandomChoice random(seed);
  fuzz::RunOptions o;
  o.variant = v;
  o.choice = &random;
  o.preempt = sched::PreemptModel::kFull;
  return fuzz::RunProgram(p, o);
}

// A tracing program (preemptible under PREEMPT_RCU) keeps using its task
// after T1's exit returned; the storage and the task are freed after the
// program, behind the exit's grace period, and no oracle objects.
TEST_P(Tree, TaskExitWaitsForNoTracingProgram) {
  const fuzz::Program p = *fuzz::ParseText(R"(vcpus 2
map m0 task
owner o0 task
task cpu 0
  prog tracing
    get m0 o0 create value 1
    get m0 o0
    get m0 o0
task cpu 1
  release owner o0
)");
  int overlapped = 0, completed = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const fuzz::RunResult r = RunFullPreemption(p, GetParam(), seed);
    ASSERT_EQ(r.finding, "none") << "seed " << seed << "\n" << check::FormatReport();
    if (r.status != sched::RunStatus::kCompleted) continue;
    ++completed;
    const sched::Scheduler& s = fuzz::LastScheduler();
    const std::vector<sched::Event> events = s.trace().Events();
    const uint64_t exit_done = DoneStep(s, events, "T1");
    uint64_t last_op = 0;  // T0's last event inside its third op (op 2)
    for (const sched::Event& e : events) {
      if (e.task >= 0 && s.task(e.task).name == "T0" && e.op == 2) last_op = e.step;
    }
    if (exit_done < last_op) {
      ++overlapped;
      const kernel::slab::Object* t = TaskStruct();
      ASSERT_NE(t, nullptr);
      EXPECT_TRUE(t->freed) << "seed " << seed;
      EXPECT_GT(t->free_step, last_op) << "seed " << seed << ": the task was freed under its program";
    }
  }
  EXPECT_GT(completed, 250);
  EXPECT_GT(overlapped, 0) << "no schedule had the program run past the exit";
}

// A sleepable program's caller holds the task: when the exit and its grace
// period come first, the caller's put is the last reference and frees the
// storage and the task in that task's context, after the program.
TEST_P(Tree, SleepableProgramsCallerMayDropTheLastTaskReference) {
  const fuzz::Program p = *fuzz::ParseText(R"(vcpus 2
map m0 task
owner o0 task
task cpu 0
  prog sleepable
    get m0 o0 create value 1
    sleep
    get m0 o0 create value 2
task cpu 1
  release owner o0
)");
  int by_caller = 0, by_rcu = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const fuzz::RunResult r = RunFullPreemption(p, GetParam(), seed);
    ASSERT_EQ(r.finding, "none") << "seed " << seed << "\n" << check::FormatReport();
    if (r.status != sched::RunStatus::kCompleted) continue;
    const sched::Scheduler& s = fuzz::LastScheduler();
    const kernel::slab::Object* t = TaskStruct();
    ASSERT_NE(t, nullptr);
    ASSERT_TRUE(t->freed) << "seed " << seed;
    ASSERT_GE(t->free_task, 0);
    const std::string& who = s.task(t->free_task).name;
    if (who == "T0") {
      ++by_caller;
      EXPECT_STREQ(t->free_site, "rf_free_task");
      EXPECT_GT(t->free_step, DoneStep(s, s.trace().Events(), "T1")) << "seed " << seed;
    } else {
      ++by_rcu;
    }
  }
  EXPECT_GT(by_caller, 0) << "the exit never came before the program's end";
  EXPECT_GT(by_rcu, 0) << "the program never ended before the exit's grace period";
}

TEST_P(Tree, MapFreeFindingIsReaderSawFreed) {
  const fuzz::Program p = LoadText(Regression(GetParam()));
  fuzz::RunOptions o;
  o.variant = GetParam();
  const fuzz::RunResult r = fuzz::RunProgram(p, o);
  EXPECT_EQ(r.finding, "reader-saw-freed") << check::FormatReport();
  const std::string report = check::FormatReport();
  EXPECT_NE(report.find("rcu_read_lock_trace() only"), std::string::npos) << report;
  EXPECT_NE(report.find("the reader needs an RCU Tasks Trace grace period"), std::string::npos) << report;
  EXPECT_NE(report.find("0 RCU Tasks Trace grace periods completed"), std::string::npos) << report;
}

TEST_P(Tree, MapFreeFindingReplaysTheSameEveryTime) {
  const fuzz::Program p = LoadText(Regression(GetParam()));
  fuzz::RunOptions o;
  o.variant = GetParam();
  const fuzz::RunResult a = fuzz::RunProgram(p, o);
  const fuzz::RunResult b = fuzz::RunProgram(p, o);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.finding, b.finding);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
// With the generic oracle off, the same interleaving goes on past the free
// and ASan catches the stale access on real code.
TEST_P(Tree, MapFreeFindingIsAnAsanUseAfterFreeWithoutTheOracle) {
  const fuzz::Program p = LoadText(Regression(GetParam()));
  fuzz::RunOptions o;
  o.variant = GetParam();
  o.oracles.reader_saw_freed = false;
  o.oracles.early_free = false;
  EXPECT_DEATH(fuzz::RunProgram(p, o), "heap-use-after-free");
}
#endif
#endif

INSTANTIATE_TEST_SUITE_P(RealTrees, Tree, ::testing::Values(Named("linux-6.1"), Named("linux-6.12")), Name);

// Findings over `seeds` random schedules
// of `p` on `v` under `preempt`; any finding but reader-saw-freed fails.
int RandomFindings(const fuzz::Program& p, Variant v, sched::PreemptModel preempt, int seeds) {
  int found = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    sched::RandomChoice random(seed);
    fuzz::RunOptions o;
    o.variant = v;
    o.choice = &random;
    o.preempt = preempt;
    const fuzz::RunResult r = fuzz::RunProgram(p, o);
    EXPECT_TRUE(r.finding == "none" || r.finding == "reader-saw-freed")
        << storage::VariantName(v) << " seed " << seed << ": " << r.finding << "\n"
        << check::FormatReport();
    found += r.finding != "none";
  }
  return found;
}

// The finding's actors: m1's element is the only one of o0's storage, m1
// goes (its map_free runs on the same CPU's kworker), and a sleepable
// program of that CPU adds m0's element to the same storage.
constexpr char kMapFreeActors[] = R"(vcpus 2
map m0 task
map m1 task
owner o0 task
task cpu 0
  prog tracing
    get m1 o0 create
  release map m1
task cpu 0
  prog sleepable
    get m0 o0 create
)";
// m1's element is the head of o0's list, before m0's: a sleepable lookup
// of m0 walks over it while m1's map_free unlinks and frees it.
constexpr char kMapFreeWalkers[] = R"(vcpus 2
map m0 task
map m1 task
owner o0 task
task cpu 0
  prog tracing
    get m0 o0 create
    get m1 o0 create
  release map m1
task cpu 0
  prog sleepable
    get m0 o0
    get m0 o0
)";
constexpr int kSeeds = 3000;

// TSan build: the schedules of `p` on `v` end in a TSan report (the bug the
// oracles name, seen by TSan first), in a child process.
void ExpectTsanReports(const fuzz::Program& p, Variant v, sched::PreemptModel preempt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("TSAN_OPTIONS", "halt_on_error=1:exitcode=66:report_signal_unsafe=1", 1);
  EXPECT_EXIT((RandomFindings(p, v, preempt, kSeeds), exit(0)), ::testing::ExitedWithCode(66),
              "WARNING: ThreadSanitizer: (data race|heap-use-after-free)")
      << storage::VariantName(v);
}

// The map_free fix, per packaged tree (the parameter: the unfixed tree).
class MapFreeFix : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    fixed_ = Named((std::string(storage::VariantName(GetParam())) + "+map-free-fix").c_str());
    for (Variant v : {GetParam(), fixed_}) {
      if (!fuzz::VariantBuilt(v)) GTEST_SKIP() << "this build has no " << storage::VariantName(v);
    }
  }
  Variant fixed_{};
};

TEST_P(MapFreeFix, TheReproducerReplaysClean) {
  const fuzz::Program p = LoadText(Regression(GetParam()));
  fuzz::RunOptions o;
  o.variant = fixed_;
  const fuzz::RunResult r = fuzz::RunProgram(p, o);
  EXPECT_EQ(r.finding, "none") << check::FormatReport();
  EXPECT_EQ(r.status, sched::RunStatus::kCompleted);
}

TEST_P(MapFreeFix, RandomSchedulesFindItOnlyWithoutTheFix) {
  for (const char* text : {kMapFreeActors, kMapFreeWalkers}) {
    const fuzz::Program p = *fuzz::ParseText(text);
    for (sched::PreemptModel preempt : {sched::PreemptModel::kVoluntary, sched::PreemptModel::kFull}) {
      const int fixed = RandomFindings(p, fixed_, preempt, kSeeds);
      EXPECT_EQ(fixed, 0);
      if (kTsanBuild) {
        if (preempt == sched::PreemptModel::kFull) ExpectTsanReports(p, GetParam(), preempt);
        continue;
      }
      const int unfixed = RandomFindings(p, GetParam(), preempt, kSeeds);
      printf("%s %s: %d/%d schedules find it, %s: %d/%d\n", text == kMapFreeActors ? "actors" : "walkers",
             preempt == sched::PreemptModel::kFull ? "full" : "voluntary", unfixed, kSeeds,
             storage::VariantName(fixed_), fixed, kSeeds);
      // Under full preemption the schedules reach the window: the fixed
      // tree's 0 is a result, not a miss.
      if (preempt == sched::PreemptModel::kFull) EXPECT_GT(unfixed, 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RealTrees, MapFreeFix, ::testing::Values(Named("linux-6.1"), Named("linux-6.12")), Name);

// The same change as a model setting (always-defer-fixed+map-free-fix,
// storage::MapFreeTasksTrace()): the model's map_free finding over the same
// random schedules of the same actors, gone with the fix.
TEST(MapFreeFixModel, RandomSchedulesFindItOnlyWithoutTheFix) {
  for (const char* text : {kMapFreeActors, kMapFreeWalkers}) {
    const fuzz::Program p = *fuzz::ParseText(text);
    const int fixed = RandomFindings(p, Variant::kAlwaysDeferFixedMapFreeFix, sched::PreemptModel::kFull, kSeeds);
    EXPECT_EQ(fixed, 0);
    if (kTsanBuild) {
      if (text == kMapFreeActors) ExpectTsanReports(p, Variant::kAlwaysDeferFixed, sched::PreemptModel::kFull);
      continue;
    }
    const int unfixed = RandomFindings(p, Variant::kAlwaysDeferFixed, sched::PreemptModel::kFull, kSeeds);
    printf("%s full: always-defer-fixed %d/%d schedules, always-defer-fixed+map-free-fix %d/%d\n",
           text == kMapFreeActors ? "actors" : "walkers", unfixed, kSeeds, fixed, kSeeds);
    if (text == kMapFreeActors) EXPECT_GT(unfixed, 0);
  }
}

// What the fix costs: map_free of a map with elements in two owners' storages
// (one of them emptied), run until everything is freed, with and without
// the fix; the grace periods each domain completed and the steps it took.
// The fix sends map_free's frees through RCU Tasks Trace, so a Tasks Trace
// grace period (which on these kernels ends with a regular one) must pass
// before the memory goes back.
TEST(MapFreeFixCost, GracePeriodsUntilEverythingIsFreed) {
  const fuzz::Program p = *fuzz::ParseText(R"(vcpus 2
map m0 task
map m1 task
owner o0 task
owner o1 task
task cpu 0
  prog syscall
    update m1 o0 noexist value 1
    update m1 o1 noexist value 2
    update m0 o0 noexist value 3
  release map m1
)");
  for (const char* base : {"always-defer-fixed", "linux-6.1", "linux-6.12"}) {
    const Variant unfixed = Named(base);
    const Variant fixed = Named((std::string(base) + "+map-free-fix").c_str());
    if (!fuzz::VariantBuilt(unfixed) || !fuzz::VariantBuilt(fixed)) continue;
    uint64_t trace[2], rcu[2], steps[2];
    for (int i = 0; i < 2; ++i) {
      fuzz::RunOptions o;  // the program's own (empty) schedule
      o.variant = i == 0 ? unfixed : fixed;
      fuzz::Program q = p;
      fuzz::AsFuzzTargetsRun(q, o.variant);
      const fuzz::RunResult r = fuzz::RunProgram(q, o);
      ASSERT_EQ(r.finding, "none") << check::FormatReport();
      ASSERT_EQ(r.status, sched::RunStatus::kCompleted);
      rcu[i] = rcu::CompletedGps(rcu::Domain::kRcu);
      trace[i] = rcu::CompletedGps(rcu::Domain::kTasksTrace);
      steps[i] = r.steps;
    }
    printf("%s: %llu RCU + %llu Tasks Trace grace periods, %llu steps; with the fix: %llu + %llu, %llu steps\n", base,
           (unsigned long long)rcu[0], (unsigned long long)trace[0], (unsigned long long)steps[0],
           (unsigned long long)rcu[1], (unsigned long long)trace[1], (unsigned long long)steps[1]);
    EXPECT_GT(trace[1], trace[0]) << base << ": the fix's frees did not wait for Tasks Trace";
  }
}

// Freeing only the emptied storage behind Tasks Trace is not enough (the
// variant linux-6.12+storage-only-fix, patches/linux-6.12/
// storage-only-tasks-trace-insufficient.patch): a sleepable lookup of the
// other map still meets the dying map's element, freed after a regular
// grace period.
TEST(MapFreeFixInsufficient, StorageOnlyStillFindsTheElement) {
  const Variant v = Named("linux-6.12+storage-only-fix");
  if (!fuzz::VariantBuilt(v)) GTEST_SKIP() << "this build has no linux-6.12+storage-only-fix";
  if (kTsanBuild) {
    ExpectTsanReports(*fuzz::ParseText(kMapFreeWalkers), v, sched::PreemptModel::kFull);
    return;
  }
  const int found = RandomFindings(*fuzz::ParseText(kMapFreeWalkers), v, sched::PreemptModel::kFull, kSeeds);
  printf("walkers full: %d/%d schedules find it on linux-6.12+storage-only-fix\n", found, kSeeds);
  EXPECT_GT(found, 0);
}

}  // namespace
}  // namespace reclaimfuzz
