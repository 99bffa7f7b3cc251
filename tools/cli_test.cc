// SPDX-License-Identifier: MIT
// The command-line front end, run in-process through the subcommands'
// entry points: what a user sees (exit status, last line, error text) and
// what the files it writes hold.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz/program.h"
#include "gtest/gtest.h"
#include "tools/cli/campaign.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/engine.h"
#include "tools/cli/libfuzzer_log.h"
#include "tools/cli/minimize.h"
#include "tools/cli/triage.h"

namespace reclaimfuzz::cli {
namespace {
namespace fs = std::filesystem;

// A sleepable reader keeps a value across a sleep while a tracing program
// deletes it: always-defer-v1 frees it behind regular RCU only (early-free);
// v4 waits for RCU Tasks Trace and is clean.
constexpr char kEarlyFree[] = R"(# sleepable reader vs delete
vcpus 2
map m0 task
owner o0 task
task cpu 0
  prog sleepable
    get m0 o0 create
    sleep
    read r0 word 0
task cpu 1
  prog tracing
    delete m0 o0
)";

// The same bug with noise around it for the minimizer: an unused map and
// owner, an extra task, extra ops, an interrupt program and schedule events.
constexpr char kPadded[] = R"(vcpus 3
map m0 task
map m1 cgroup spin_lock
owner o0 task
owner o1 cgroup
task cpu 0
  prog sleepable
    get m0 o0 create value 9
    write r0 word 2 value 5
    sleep
    read r0 word 3
task cpu 1 migratable
  prog tracing
    get m0 o0
    delete m0 o0
  prog syscall
    lookup m0 o0
task cpu 2
  prog tracing
    get m1 o1 create value 3
    read r0 word 1
irq hardirq cpu 2
  get m1 o1
schedule
  at 3 pick 0
  at 40 pick 0
  at 90 pick 0
)";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = absl::StrCat(::testing::TempDir(), "/cli_test_", getpid(), "_", info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    fs::create_directories(fs::path(path).parent_path());
    EXPECT_TRUE(WriteFile(path, text).ok());
    return path;
  }

  struct Outcome {
    int rc;
    std::string out, err;
  };
  Outcome Run(int (*main)(const Args&, std::ostream&, std::ostream&), const Args& args) {
    std::ostringstream out, err;
    const int rc = main(args, out, err);
    return {rc, out.str(), err.str()};
  }

  static std::string LastLine(const std::string& s) {
    std::vector<std::string> lines = absl::StrSplit(s, '\n', absl::SkipEmpty());
    return lines.empty() ? "" : lines.back();
  }

  std::string dir_;
};

TEST_F(CliTest, EncodeThenDecodeRoundTrips) {
  const std::string txt = Write("p.txt", kPadded);
  const std::string bin = absl::StrCat(dir_, "/p.bin");
  Outcome e = Run(&EncodeMain, {txt, "-o", bin});
  ASSERT_EQ(e.rc, 0) << e.err;
  absl::StatusOr<std::string> bytes = ReadFile(bin);
  ASSERT_TRUE(bytes.ok());
  ASSERT_FALSE(bytes->empty());
  EXPECT_EQ((*bytes)[0],
            static_cast<char>(fuzz::kFormatVersion));  // binary, not text

  Outcome d = Run(&DecodeMain, {bin});
  ASSERT_EQ(d.rc, 0) << d.err;
  absl::StatusOr<fuzz::Program> original = fuzz::ParseText(kPadded);
  absl::StatusOr<fuzz::Program> decoded = fuzz::ParseText(d.out);
  ASSERT_TRUE(original.ok() && decoded.ok()) << d.out;
  EXPECT_EQ(*decoded, *original);
  // decode of the decoded text is stable.
  const std::string again = Write("again.txt", d.out);
  EXPECT_EQ(Run(&DecodeMain, {again}).out, d.out);
}

TEST_F(CliTest, SyntaxErrorNamesFileLineAndColumn) {
  const std::string bad = Write("bad.txt",
                                "vcpus 2\nmap m0 task\nowner o0 task\ntask cpu "
                                "0\n  prog tracing\n    gte m0 o0\n");
  const std::vector<Outcome> outcomes = {
      Run(&ReplayMain, {"--variant", "v4", bad}),
      Run(&EncodeMain, {bad, "-o", dir_ + "/x"}),
      Run(&DecodeMain, {bad}),
      Run(&MinimizeMain, {"--variant", "v4", bad}),
  };
  for (const Outcome& r : outcomes) {
    EXPECT_EQ(r.rc, kExitUsage);
    EXPECT_TRUE(absl::StrContains(r.err, bad + ":6:5: unknown keyword or op 'gte'")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
  }
}

// A fuzzer's binary input may start with a letter, which DecodeAny takes
// for text: bytes no text holds still make it binary.
TEST_F(CliTest, BinaryStartingWithALetterIsStillBinary) {
  const std::string bin = Write("crash-f", std::string("f\x00\x01\x9f\x06\x02", 6));
  absl::StatusOr<fuzz::Program> p = LoadProgram(bin);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, fuzz::DecodeBinary(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>("f\x00\x01\x9f\x06\x02"), 6)));
  const std::string text = Write("typo.txt", "vcpus 2  # UTF-8 \u2014 still text\nmapp m0 task\n");
  p = LoadProgram(text);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), text + ":2:1: unknown keyword or op 'mapp'");
}

// rcu_trace_implies_rcu_gp() is not a setting a program can change: an
// older file's "trace_implies_rcu_gp on" replays as the same program
// without it, and "off" is an input error naming the line.
TEST_F(CliTest, TraceImpliesRcuGpIsNotASetting) {
  const std::string plain = Write("plain.txt", kEarlyFree);
  const std::string on = Write("on.txt", absl::StrCat("trace_implies_rcu_gp on\n", kEarlyFree));
  Outcome a = Run(&ReplayMain, {"--variant", "v4", plain});
  Outcome b = Run(&ReplayMain, {"--variant", "v4", on});
  EXPECT_EQ(a.rc, kExitOk) << a.out;
  EXPECT_EQ(b.rc, a.rc) << b.out;
  EXPECT_EQ(LastLine(b.out), LastLine(a.out)) << b.out;
  const std::string off = Write("off.txt", absl::StrCat("trace_implies_rcu_gp off\n", kEarlyFree));
  Outcome c = Run(&ReplayMain, {"--variant", "v4", off});
  EXPECT_EQ(c.rc, kExitUsage) << c.out;
  EXPECT_TRUE(absl::StrContains(c.err, "'off' is not a setting")) << c.err;
}

TEST_F(CliTest, BadInputIsOneLineAndExitTwo) {
  const std::string good = Write("good.txt", kEarlyFree);
  Outcome r = Run(&ReplayMain, {"--variant", "v9", good});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown variant 'v9'")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "always-defer-v1")) << r.err;  // lists the valid ones

  r = Run(&ReplayMain, {"--variant", "v4", dir_ + "/missing.txt"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "cannot read " + dir_ + "/missing.txt")) << r.err;

  r = Run(&ReplayMain, {"--variant", "v4", dir_});  // a directory
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "is a directory")) << r.err;

  r = Run(&ReplayMain, {good});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "--variant is required")) << r.err;

  r = Run(&ReplayMain, {"--variant", "v4", "--duration=5s", good});  // another command's flag
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown flag '--duration=5s' for replay")) << r.err;

  r = Run(&CampaignMain, {"--duration=soon"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "bad value 'soon' for --duration")) << r.err;

  r = Run(&EncodeMain, {good});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "-o OUT is required")) << r.err;

  r = Run(&CampaignMain, {"--engine", "honggfuzz"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown engine 'honggfuzz' (libfuzzer, afl)")) << r.err;

  r = Run(&CampaignMain, {"--jobs=0"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "--jobs must be 1 to 64")) << r.err;

  // (bench without flags is the hour-long benchmark: only its usage here;
  // bench_test.cc tests the rest.)
  r = Run(&BenchMain, {"--runs=0"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "--runs must be 1 to 1000")) << r.err;
}

TEST_F(CliTest, HelpListsOnlyTheCommandsFlags) {
  Outcome r = Run(&ReplayMain, {"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "usage: reclaimfuzz replay --variant V FILE...")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "--variant")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "--duration")) << r.out;
  r = Run(&CampaignMain, {"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "--duration")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "--jobs")) << r.out;
}

TEST_F(CliTest, ReplayPrintsTimelineAndFindingAndExitStatus) {
  const std::string p = Write("early.txt", kEarlyFree);
  Outcome bad = Run(&ReplayMain, {"--variant", "always-defer-v1", p});
  EXPECT_EQ(bad.rc, kExitFinding) << bad.err;
  EXPECT_EQ(LastLine(bad.out), "finding: early-free") << bad.out;
  EXPECT_TRUE(absl::StrContains(bad.out, "variant: always-defer-v1")) << bad.out;
  EXPECT_TRUE(absl::StrContains(bad.out, "cpu0")) << bad.out;  // the per-vCPU timeline

  Outcome clean = Run(&ReplayMain, {"--variant", "v4", p});
  EXPECT_EQ(clean.rc, kExitOk) << clean.err;
  EXPECT_EQ(LastLine(clean.out), "finding: none") << clean.out;
  EXPECT_TRUE(absl::StrContains(clean.out, "cpu1")) << clean.out;

  // Several files: a finding in any one is exit 1; the binary form works too.
  const std::string bin = dir_ + "/early.bin";
  ASSERT_EQ(Run(&EncodeMain, {p, "-o", bin}).rc, 0);
  Outcome both = Run(&ReplayMain, {"--variant", "always-defer-v1", bin, p});
  EXPECT_EQ(both.rc, kExitFinding);
  EXPECT_TRUE(absl::StrContains(both.out, "==== " + bin + " ====\n")) << both.out;
  EXPECT_TRUE(absl::StrContains(both.out, "==== " + p + " ====\n")) << both.out;
  int last_lines = 0;
  for (absl::string_view line : absl::StrSplit(both.out, '\n')) last_lines += line == "finding: early-free";
  EXPECT_EQ(last_lines, 2) << both.out;
}

TEST_F(CliTest, MinimizeKeepsTheFindingAndShrinks) {
  absl::StatusOr<fuzz::Program> padded = fuzz::ParseText(kPadded);
  ASSERT_TRUE(padded.ok()) << padded.status();
  ASSERT_EQ(RunOnce(*padded, storage::Variant::kAlwaysDeferV1).finding, "early-free");

  const std::string in = Write("padded.txt", kPadded);
  Outcome r = Run(&MinimizeMain, {"--variant", "always-defer-v1", in});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "finding: early-free")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "(fixpoint)")) << r.out;
  absl::StatusOr<fuzz::Program> min = LoadProgram(in + ".min.txt");  // the default OUT
  ASSERT_TRUE(min.ok()) << min.status();
  EXPECT_EQ(RunOnce(*min, storage::Variant::kAlwaysDeferV1).finding, "early-free");

  const ProgramSize before = SizeOf(*padded), after = SizeOf(*min);
  EXPECT_LE(after.tasks, before.tasks);
  EXPECT_LE(after.irqs, before.irqs);
  EXPECT_LE(after.steps, before.steps);
  EXPECT_LE(after.schedule, before.schedule);
  EXPECT_LT(after.ops, before.ops);
  EXPECT_EQ(after.irqs, 0);
  EXPECT_EQ(after.schedule, 0);
  EXPECT_LT(min->maps.size(), padded->maps.size());  // the cgroup map went

  // At a fixpoint, a second minimization changes nothing.
  const MinimizeResult again = Minimize(*min, storage::Variant::kAlwaysDeferV1, "early-free");
  EXPECT_EQ(again.program, *min);
  EXPECT_FALSE(again.budget_spent);
}

TEST_F(CliTest, MinimizeRefusesAnInputWithoutFinding) {
  const std::string in = Write("clean.txt", kEarlyFree);
  Outcome r = Run(&MinimizeMain, {"--variant", "v4", in, "-o", dir_ + "/out.txt"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(absl::StrContains(r.err, "gives no finding on v4")) << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/out.txt"));
}

TEST_F(CliTest, TriageGroupsCopiesOfOneCrash) {
  absl::StatusOr<fuzz::Program> p = fuzz::ParseText(kEarlyFree);
  ASSERT_TRUE(p.ok());
  const std::vector<uint8_t> bin = fuzz::EncodeBinary(*p);
  const std::string bytes(bin.begin(), bin.end());
  Write("crashes/storage_always_defer_v1_fuzz/crash-1", bytes);
  Write("crashes/storage_always_defer_v1_fuzz/crash-2", bytes);
  Write("crashes/storage_v4_fuzz/crash-3", bytes);  // v4 only: clean there
  Write("crashes/storage_v4_fuzz/fuzz-0.log", "not an input");

  int files = 0;
  absl::StatusOr<std::vector<TriageGroup>> groups = TriageDir(dir_ + "/crashes", {}, &files);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_EQ(files, 3);
  ASSERT_EQ(groups->size(), 2u) << FormatTriageTable(*groups);
  const TriageGroup& g = (*groups)[0];
  EXPECT_EQ(g.variant, "always-defer-v1");
  EXPECT_EQ(g.finding, "early-free");
  EXPECT_EQ(g.count, 2);
  EXPECT_NE(g.frame, "-");
  EXPECT_TRUE(absl::EndsWith(g.example, "crash-1")) << g.example;
  EXPECT_EQ((*groups)[1].variant, "v4");
  EXPECT_EQ((*groups)[1].finding, "none");

  // Through the command: the table and its summary line.
  Outcome r = Run(&TriageMain, {dir_ + "/crashes"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "early-free")) << r.out;
  EXPECT_EQ(LastLine(r.out), "3 files, 2 groups, 1 with a finding") << r.out;

  // --variant overrides the folder names: every file on both variants.
  groups = TriageDir(dir_ + "/crashes", {storage::Variant::kAlwaysDeferV1, storage::Variant::kAlwaysDeferFixed});
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u) << FormatTriageTable(*groups);
  EXPECT_EQ((*groups)[0].variant, "always-defer-fixed");
  EXPECT_EQ((*groups)[0].finding, "none");
  EXPECT_EQ((*groups)[1].count, 3);

  EXPECT_EQ(Run(&TriageMain, {dir_ + "/nope"}).rc, kExitUsage);
}

// A flag given with its default value is still given: bench's --bugs
// defaults (--cap 300) must not override an explicit --cap 60.
TEST(ParseArgs, RecordsTheFlagsGivenEvenAtTheirDefault) {
  const Command* bench = FindCommand("bench");
  ASSERT_NE(bench, nullptr);
  absl::StatusOr<Parsed> p = ParseArgs(*bench, {"--bugs", "--cap", "60", "--runs=2"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->Given("cap"));
  EXPECT_TRUE(p->Given("runs"));
  EXPECT_TRUE(p->Given("bugs"));
  EXPECT_FALSE(p->Given("strategies"));
}

// A reproducer of a user's tree says how to rebuild that tree: the
// --kernel-tree and --patch arguments tools/reclaimfuzz was given.
TEST(ReplayCommand, NamesTheTreeAndPatchesOfATreeVariant) {
  unsetenv("RECLAIMFUZZ_KERNEL_TREE");
  EXPECT_EQ(ReplayCommand("v4", "a.txt"), "tools/reclaimfuzz replay --variant v4 a.txt");
  EXPECT_EQ(ReplayCommand("tree", "a.txt"), "tools/reclaimfuzz replay --variant tree a.txt");
  setenv("RECLAIMFUZZ_KERNEL_TREE", "/src/linux", 1);
  setenv("RECLAIMFUZZ_KERNEL_PATCHES", "/p/one.patch;/p/two.patch", 1);
  EXPECT_EQ(ReplayCommand("tree", "a.txt"),
            "tools/reclaimfuzz replay --kernel-tree /src/linux --patch /p/one.patch --patch /p/two.patch "
            "--variant tree a.txt");
  // check's unpatched tree is the same tree without the patches.
  EXPECT_EQ(ReplayCommand("tree-base", "a.txt"),
            "tools/reclaimfuzz replay --kernel-tree /src/linux --variant tree a.txt");
  EXPECT_EQ(ReplayCommand("v4", "a.txt"), "tools/reclaimfuzz replay --variant v4 a.txt");
  unsetenv("RECLAIMFUZZ_KERNEL_TREE");
  unsetenv("RECLAIMFUZZ_KERNEL_PATCHES");
}

TEST(LibFuzzerLog, ParsesForkAndInProcessStatusLines) {
  FuzzerProgress p;
  EXPECT_TRUE(
      ParseLibFuzzerLine("#39001: cov: 1485 ft: 3049 corp: 212 exec/s 1312 oom/timeout/crash: "
                         "0/1/2 time: 13s job: 5 dft_time: 0",
                         &p));
  EXPECT_EQ(p.execs, 39001u);
  EXPECT_EQ(p.cov, 1485u);
  EXPECT_EQ(p.features, 3049u);
  EXPECT_EQ(p.corpus, 212u);
  EXPECT_EQ(p.exec_per_sec, 39001u / 13);  // not the job's 1312: see below
  EXPECT_EQ(p.timeouts, 1u);
  EXPECT_EQ(p.crashes, 2u);
  EXPECT_EQ(p.seconds, 13u);

  EXPECT_TRUE(ParseLibFuzzerLine("#65536\tpulse  cov: 20 ft: 30 corp: 7/90b lim: 4 exec/s: 4096 rss: 45Mb", &p));
  EXPECT_EQ(p.execs, 65536u);
  EXPECT_EQ(p.corpus, 7u);
  EXPECT_EQ(p.exec_per_sec, 4096u);
  EXPECT_EQ(p.crashes, 2u);  // kept from before

  const FuzzerProgress before = p;
  EXPECT_FALSE(ParseLibFuzzerLine("  NEW_FUNC: 0x561ce7a9c1e0 in LLVMFuzzerTestOneInput", &p));
  EXPECT_FALSE(ParseLibFuzzerLine("==21277== ERROR: libFuzzer: deadly signal", &p));
  EXPECT_FALSE(ParseLibFuzzerLine("INFO: -fork=2: fuzzing in separate process(s)", &p));
  EXPECT_FALSE(ParseLibFuzzerLine("#", &p));
  EXPECT_EQ(p.execs, before.execs);
}

// -fork=2 -ignore_crashes=1, as a campaign runs: lines of a v4-srcu-fix
// session whose jobs crash. "exec/s" is the ended job's own average, 0 for
// a job that crashed within its first second, and one job's share of two;
// the rate shown is the executions over the seconds since the first line.
TEST(LibFuzzerLog, ForkModeRateIsExecutionsOverSeconds) {
  FuzzerProgress p;
  ASSERT_TRUE(
      ParseLibFuzzerLine("#135: cov: 3286 ft: 3286 corp: 9 exec/s 0 oom/timeout/crash: 0/0/0 "
                         "time: 0s job: 1 dft_time: 0",
                         &p));
  EXPECT_EQ(p.exec_per_sec, 135u);  // no second has passed: 135 in under one
  ASSERT_TRUE(
      ParseLibFuzzerLine("#1593: cov: 5129 ft: 6552 corp: 289 exec/s 0 oom/timeout/crash: 0/0/2 "
                         "time: 1s job: 3 dft_time: 0",
                         &p));
  EXPECT_EQ(p.exec_per_sec, (1593u - 135) / 1);
  ASSERT_TRUE(
      ParseLibFuzzerLine("#192555: cov: 8974 ft: 12810 corp: 2966 exec/s 1827 "
                         "oom/timeout/crash: 0/0/1 time: 55s job: 13 dft_time: 0",
                         &p));
  EXPECT_EQ(p.execs, 192555u);
  EXPECT_EQ(p.exec_per_sec, (192555u - 135) / 55);  // 3498: both jobs, not 1827
}

TEST(AflStats, SumsWhatTheCampaignShows) {
  FuzzerProgress p;
  EXPECT_TRUE(
      ParseAflStats("start_time        : 1795843127\nrun_time          : "
                    "15\nexecs_done        : 116665\n"
                    "execs_per_sec     : 7775.59\ncorpus_count      : "
                    "706\nsaved_crashes     : 108\n"
                    "saved_hangs       : 2\nedges_found       : "
                    "1545\nafl_version       : ++4.04c\n",
                    &p));
  EXPECT_EQ(p.execs, 116665u);
  EXPECT_EQ(p.exec_per_sec, 7775u);
  EXPECT_EQ(p.corpus, 706u);
  EXPECT_EQ(p.crashes, 108u);
  EXPECT_EQ(p.timeouts, 2u);
  EXPECT_EQ(p.cov, 1545u);
  EXPECT_EQ(p.seconds, 15u);
  EXPECT_TRUE(p.any);
  FuzzerProgress q;
  EXPECT_FALSE(ParseAflStats("not stats\n", &q));
  EXPECT_FALSE(q.any);
}

// A crash the model does not reproduce is named by the finding the target
// writes to RECLAIMFUZZ_FINDING_OUT (fuzz/sanitizer_report.h), not by its
// output; without one, by how the target exited.
TEST_F(CliTest, NameByTargetReadsTheFindingTheTargetWrites) {
  const std::string crash = Write("crash-1", "x");
  auto target = [&](const std::string& name, const std::string& body) {
    const std::string path = Write(name, "#!/bin/sh\n" + body);
    fs::permissions(path, fs::perms::owner_all);
    return path;
  };
  const std::unique_ptr<FuzzEngine> lf = MakeLibFuzzerEngine();
  fuzz::Execution e;
  e.variant = "v4";
  e.finding.name = "use-after-free";
  e.finding.source = "asan";
  e.finding.where = "in bpf_local_storage_update";
  e.finding.function = "bpf_local_storage_update";
  Write("finding.json", fuzz::ExecutionToJson(e));
  // Its output says something else: the value, not the text, counts.
  const NamedCrash asan = NameByTarget(*lf,
                                       target("asan", "echo '==1==ERROR: AddressSanitizer: SEGV' >&2; cp " + dir_ +
                                                          "/finding.json \"$RECLAIMFUZZ_FINDING_OUT\"; exit 1\n"),
                                       crash, dir_ + "/scratch");
  EXPECT_EQ(asan.name, "use-after-free");
  EXPECT_EQ(asan.where, "in bpf_local_storage_update");
  ASSERT_TRUE(asan.execution.has_value());
  EXPECT_EQ(asan.execution->finding, e.finding);
  EXPECT_EQ(NameByTarget(*lf, target("clean", "exit 0\n"), crash, dir_ + "/scratch").name, "unreproduced");
  EXPECT_EQ(NameByTarget(*lf, target("odd", "exit 3\n"), crash, dir_ + "/scratch").name, "crash (exit 3)");
  EXPECT_EQ(NameByTarget(*lf, target("slow", "exit 70\n"), crash, dir_ + "/scratch").name, "timeout");
  EXPECT_FALSE(fs::exists(dir_ + "/scratch"));  // cleaned up
}

TEST_F(CliTest, PrepareCorpusConvertsTextSeedsToBinary) {
  Write("corpus/seeds/a.txt", kEarlyFree);
  Write("corpus/seeds/b.txt", kEarlyFree);  // the same program: one file
  Write("corpus/seeds/expected.txt", "# not a program\na.txt v4 none\n");
  Write("corpus/seeds/broken.txt", "vcpus 9\n");
  Write("corpus/storage_v4_fuzz/c.txt", kPadded);
  Write("corpus/storage_v4_fuzz/regression/early-free.txt", kEarlyFree + std::string("\n# regression\n"));
  std::vector<std::string> skipped;
  absl::StatusOr<int> n = PrepareCorpus({dir_ + "/corpus/seeds", dir_ + "/corpus/storage_v4_fuzz", dir_ + "/none"},
                                        dir_ + "/work", &skipped);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_TRUE(absl::StrContains(skipped[0], "broken.txt:1:7")) << skipped[0];
  int found = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_ + "/work")) {
    absl::StatusOr<std::string> bytes = ReadFile(e.path().string());
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ((*bytes)[0], static_cast<char>(fuzz::kFormatVersion));
    const fuzz::Program p =
        fuzz::DecodeBinary(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
    found += p == *fuzz::ParseText(kEarlyFree) || p == *fuzz::ParseText(kPadded);
  }
  EXPECT_EQ(found, 2);
}

TEST(VerdictTable, CleanVariantSaysNone) {
  VariantOutcome clean;
  clean.variant = storage::Variant::kAlwaysDeferFixed;
  clean.verdicts.push_back(Verdict{"none", 0, "-"});
  VariantOutcome buggy;
  buggy.variant = storage::Variant::kAlwaysDeferV1;
  buggy.verdicts.push_back(Verdict{"early-free", 7, "out/always-defer-v1/early-free.txt"});
  const std::string t = FormatVerdictTable({buggy, clean});
  std::vector<std::string> lines = absl::StrSplit(t, '\n');
  ASSERT_GE(lines.size(), 3u) << t;
  EXPECT_TRUE(absl::StartsWith(lines[0], "variant")) << t;
  EXPECT_TRUE(absl::StrContains(lines[1], "early-free") && absl::StrContains(lines[1], "7") &&
              absl::StrContains(lines[1], "out/always-defer-v1/early-free.txt"))
      << t;
  EXPECT_TRUE(absl::StartsWith(lines[2], "always-defer-fixed") && absl::StrContains(lines[2], "none")) << t;
}

#ifdef RF_FUZZ_TARGET_DIR
// The whole pipeline on one variant for a few seconds with this build's
// libFuzzer target: fork mode runs, progress is parsed, a table comes out.
TEST_F(CliTest, CampaignSmoke) {
  Write("corpus/seeds/early.txt", kEarlyFree);
  Outcome r =
      Run(&CampaignMain, {"--variant=always-defer-v1", "--duration=3s", "--jobs=1", "--out=" + dir_ + "/results",
                          "--corpus=" + dir_ + "/corpus", "--fuzzer_dir=" RF_FUZZ_TARGET_DIR, "--max_runs=200"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "1 seeds from")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "[always-defer-v1")) << r.out;  // a progress line
  EXPECT_TRUE(absl::StrContains(r.out, "\nverdict (")) << r.out;
  absl::StatusOr<std::string> table = ReadFile(dir_ + "/results/verdict.txt");
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(absl::StrContains(*table, "\nalways-defer-v1 ")) << *table;
  EXPECT_FALSE(absl::StrContains(*table, " error ")) << *table;
  EXPECT_TRUE(fs::exists(dir_ + "/results/always-defer-v1/fuzzer.log"));
  // Every reproducer the table names replays to its finding.
  for (absl::string_view line : absl::StrSplit(*table, '\n')) {
    std::vector<std::string> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (cols.size() != 4 || cols[0] != "always-defer-v1" || !absl::EndsWith(cols[3], ".txt")) continue;
    Outcome replay = Run(&ReplayMain, {"--variant=always-defer-v1", cols[3]});
    EXPECT_EQ(LastLine(replay.out), "finding: " + cols[1]) << replay.out;
  }
}
#endif

}  // namespace
}  // namespace reclaimfuzz::cli

namespace reclaimfuzz::cli {
namespace {

Verdict V(const std::string& finding, const std::string& frame, const std::string& repro) {
  Verdict v;
  v.finding = finding;
  v.frame = frame;
  v.reproducer = repro;
  v.crashes = 1;
  return v;
}

// check: what only the patched tree has is added, what only the base has is
// removed, the same (finding, frame) on both is in both, and a finding one
// campaign missed but whose reproducer replays to it on that side is in
// both, not blamed on the patch.
TEST(PatchComparison, SortsFindingsIntoAddedRemovedAndBoth) {
  VariantOutcome base, patched;
  base.variant = storage::Variant::kAlwaysDeferFixed;
  patched.variant = storage::Variant::kAlwaysDeferV1;
  base.verdicts = {V("reader-saw-freed", "freed by drain_mem_cache", "/b/rsf.txt"),
                   V("context-violation", "kzalloc() called from NMI context", "/b/cv.txt")};
  patched.verdicts = {V("context-violation", "kzalloc() called from NMI context", "/p/cv.txt"),
                      V("list-corruption", "WRITE_ONCE(n->pprev)", "/p/lc.txt"),
                      V("context-violation", "call_rcu() called from NMI context", "/p/cv2.txt")};
  // The base's campaign missed the second NMI finding; its reproducer
  // replays to it there.
  const CrossReplay replays = [](const Verdict& v, storage::Variant on) {
    return v.reproducer == "/p/cv2.txt" && on == storage::Variant::kAlwaysDeferFixed;
  };
  int added = -1;
  const std::string out = FormatPatchComparison(base, patched, &added, replays);
  EXPECT_EQ(added, 1) << out;
  const size_t a = out.find("added by the patches"), r = out.find("removed by the patches"), b = out.find("in both");
  ASSERT_TRUE(a != std::string::npos && r != std::string::npos && b != std::string::npos) << out;
  const size_t lc = out.find("list-corruption"), rsf = out.find("reader-saw-freed"),
               cv2 = out.find("call_rcu() called from NMI"), cv = out.find("kzalloc() called from NMI");
  EXPECT_TRUE(a < lc && lc < r) << out;
  EXPECT_TRUE(r < rsf && rsf < b) << out;
  EXPECT_GT(cv2, b) << out;
  EXPECT_GT(cv, b) << out;
  EXPECT_NE(out.find("campaign missed it"), std::string::npos) << out;
}

}  // namespace
}  // namespace reclaimfuzz::cli
