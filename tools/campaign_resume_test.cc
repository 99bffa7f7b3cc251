// SPDX-License-Identifier: MIT
// A campaign killed with SIGKILL (the campaign and every fuzzer process it
// started) and restarted on the same results folder loses nothing: every
// corpus file, crash file, reproducer and findings.tsv line present at the
// kill is there after the restart with the same content, and the restart
// reports none of the findings seen before as new. Also: the corpus
// minimization killed half way leaves the corpus whole, resumes, and keeps
// every feature; and the AFL++ engine end to end.
//
// These run the real reclaimfuzz_cli (this build's) as a separate process
// group, so that a kill is a real kill -9, on this build's libFuzzer
// targets. Only in the asan preset (the tsan targets cannot fuzz).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fuzz/program.h"
#include "gtest/gtest.h"
#include "tools/cli/common.h"
#include "tools/cli/durable.h"
#include "tools/cli/engine.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli {
namespace {
namespace fs = std::filesystem;

constexpr char kVariant[] = "always-defer-v1";
constexpr char kTarget[] = "storage_always_defer_v1_fuzz";

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name[0] != '.' && e.is_regular_file(ec)) out.push_back(name);
  }
  return out;
}

std::string Read(const std::string& path) {
  absl::StatusOr<std::string> s = ReadFile(path);
  return s.ok() ? *s : "";
}

// SIGKILL to the campaign's process group, then to every fuzzer process
// working in `dir` (libFuzzer's fork-mode parent and jobs, afl-fuzz and its
// targets lead process groups of their own), until none is left: what a
// kill -9 of everything, or a machine going down, does.
void KillEverything(Subprocess& campaign, const std::string& dir) {
  kill(-campaign.pid(), SIGKILL);
  std::error_code ec;
  const std::string base = fs::weakly_canonical(dir, ec).string();
  for (int round = 0; round < 500; ++round) {
    int found = 0;
    for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
      pid_t pid = 0;
      if (!absl::SimpleAtoi(e.path().filename().string(), &pid)) continue;
      std::error_code e1, e2;
      const std::string cwd = fs::read_symlink(e.path() / "cwd", e1).string();
      const std::string exe = fs::read_symlink(e.path() / "exe", e2).string();
      if (e1 || e2 || (cwd != base && !absl::StartsWith(cwd, base + "/"))) continue;
      const std::string state = Read(e.path().string() + "/stat");
      const size_t paren = state.rfind(')');
      if (paren != std::string::npos && paren + 2 < state.size() && state[paren + 2] == 'Z') continue;
      if (absl::StrContains(exe, kTarget) || absl::StrContains(exe, "afl-") ||
          absl::StrContains(exe, "reclaimfuzz_cli")) {
        kill(pid, SIGKILL);
        ++found;
      }
    }
    if (found == 0) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  campaign.Wait();
}

// What a campaign folder holds that must survive: relative path -> content.
// Files a kill cut short (a SHA-1 name that does not match the content:
// libFuzzer writes in place) were never whole and are listed in *torn.
struct Snapshot {
  std::map<std::string, std::string> files;
  std::set<std::string> index_lines;
  std::vector<std::string> torn;
};

Snapshot Take(const std::string& vdir) {
  Snapshot s;
  for (const char* sub : {"corpus", "crashes"}) {
    for (const std::string& name : Files(vdir + "/" + sub)) {
      const std::string rel = absl::StrCat(sub, "/", name);
      const std::string bytes = Read(vdir + "/" + rel);
      if (ContentMatchesName(name, bytes)) {
        s.files[rel] = bytes;
      } else {
        s.torn.push_back(name);
      }
    }
  }
  for (const std::string& name : Files(vdir)) {
    if (absl::EndsWith(name, ".txt")) s.files[name] = Read(vdir + "/" + name);
  }
  for (absl::string_view line : absl::StrSplit(Read(vdir + "/findings.tsv"), '\n', absl::SkipEmpty())) {
    if (line[0] != '#') s.index_lines.insert(std::string(line));
  }
  return s;
}

// Everything of `before` that `after` lost or changed.
std::vector<std::string> Losses(const Snapshot& before, const Snapshot& after) {
  std::vector<std::string> out;
  for (const auto& [rel, bytes] : before.files) {
    auto it = after.files.find(rel);
    if (it == after.files.end()) {
      out.push_back("lost " + rel);
    } else if (it->second != bytes) {
      out.push_back("changed " + rel);
    }
  }
  for (const std::string& line : before.index_lines) {
    if (!after.index_lines.count(line)) out.push_back("lost finding " + line);
  }
  return out;
}

// "new finding: <finding> at <frame> (<path>)" lines of a campaign's
// output whose (finding, frame) findings.tsv held already.
std::vector<std::string> Duplicates(const Snapshot& before, const std::string& output) {
  std::set<std::string> known;
  for (const std::string& line : before.index_lines) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() >= 2) known.insert(f[0] + " at " + f[1]);
  }
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    size_t at = line.find("new finding: ");
    if (at == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(at + 13);
    rest = rest.substr(0, rest.rfind(" ("));
    if (known.count(std::string(rest))) out.push_back(std::string(line));
  }
  return out;
}

TEST(Durable, Sha1NamesAndAtomicWrites) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex(std::string(1000, 'a')), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
  // Two blocks: the padding does not fit after 56 bytes (FIPS 180 example).
  EXPECT_EQ(Sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  const std::string abc = "a9993e364706816aba3e25717850c26c9cd0d89d";
  EXPECT_TRUE(ContentMatchesName(abc, "abc"));
  EXPECT_TRUE(ContentMatchesName("crash-" + abc, "abc"));
  EXPECT_FALSE(ContentMatchesName(abc, "ab"));  // cut short
  EXPECT_FALSE(ContentMatchesName("crash-" + abc, ""));
  EXPECT_TRUE(ContentMatchesName("seed.txt", "anything"));  // no SHA-1
  const std::string dir = ::testing::TempDir() + "/durable_" + std::to_string(getpid());
  fs::create_directories(dir);
  ASSERT_TRUE(WriteFileAtomic(dir + "/f", "one").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/f", "two").ok());
  EXPECT_EQ(Read(dir + "/f"), "two");
  EXPECT_EQ(Files(dir).size(), 1u);  // no temporary file left
  fs::create_directories(dir + "/a");
  fs::create_directories(dir + "/b");
  ASSERT_TRUE(WriteFileAtomic(dir + "/a/x", "a").ok());
  ASSERT_TRUE(ExchangeDirs(dir + "/a", dir + "/b").ok());
  EXPECT_TRUE(fs::exists(dir + "/b/x"));
  EXPECT_FALSE(fs::exists(dir + "/a/x"));
  fs::remove_all(dir);
}

// AFL++ writes "execs_per_sec : inf" in its first second.
TEST(AflStats, InfiniteRateIsZero) {
  FuzzerProgress p;
  EXPECT_TRUE(ParseAflStats("execs_done : 12\nexecs_per_sec : inf\n", &p));
  EXPECT_EQ(p.execs, 12u);
  EXPECT_EQ(p.exec_per_sec, 0u);
}

class CampaignResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/campaign_resume_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    out_ = dir_ + "/results";
    vdir_ = out_ + "/" + kVariant;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Starts the campaign with its output into `log`.
  std::unique_ptr<Subprocess> Start(const std::vector<std::string>& extra, const std::string& log,
                                    const std::string& fuzzer_dir = RF_FUZZ_TARGET_DIR) {
    std::vector<std::string> argv = {RF_CLI_PATH,
                                     "campaign",
                                     absl::StrCat("--variant=", kVariant),
                                     "--out=" + out_,
                                     "--fuzzer_dir=" + fuzzer_dir,
                                     "--corpus=" + corpus_root_,
                                     "--max_runs=300"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    SpawnOptions so;
    so.output_file = log;
    absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }

  // Waits (at most `cap`) for `ready`; false if it never came.
  template <typename F>
  bool WaitFor(Subprocess& p, absl::Duration cap, F ready) {
    const absl::Time until = absl::Now() + cap;
    while (absl::Now() < until) {
      if (ready()) return true;
      if (p.Poll().has_value()) return ready();
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  std::string dir_, out_, vdir_;
  std::string corpus_root_ = RF_SOURCE_DIR "/corpus";
};

TEST_F(CampaignResumeTest, KillNineThenRestartLosesNothing) {
  // 1. A long campaign, killed once it has grown its corpus and saved a
  //    finding (always-defer-v1's seeds give early-free at once).
  std::unique_ptr<Subprocess> first =
      Start({"--duration=120s", "--jobs=2", "--nominimize_corpus"}, dir_ + "/first.log");
  ASSERT_NE(first, nullptr);
  const bool ready = WaitFor(*first, absl::Seconds(120), [&] {
    return Files(vdir_ + "/corpus").size() >= 20 && !Files(vdir_ + "/crashes").empty() &&
           absl::StrContains(Read(vdir_ + "/findings.tsv"), "\t");
  });
  ASSERT_FALSE(first->Poll().has_value()) << "the campaign ended before the kill:\n" << Read(dir_ + "/first.log");
  KillEverything(*first, out_);
  ASSERT_TRUE(ready) << "no corpus growth and finding within 120 s:\n" << Read(dir_ + "/first.log");
  const Snapshot before = Take(vdir_);
  ASSERT_GE(before.index_lines.size(), 1u);
  std::cout << "killed with " << before.files.size() << " files (" << before.index_lines.size() << " findings, "
            << before.torn.size() << " files cut short)\n";

  // 2. The same command again, briefly: it resumes.
  std::unique_ptr<Subprocess> second =
      Start({"--duration=4s", "--jobs=2", "--nominimize_corpus"}, dir_ + "/second.log");
  ASSERT_NE(second, nullptr);
  const int rc = second->Wait();
  const std::string output = Read(dir_ + "/second.log");
  ASSERT_EQ(rc, 0) << output;
  EXPECT_TRUE(absl::StrContains(output, "resuming ")) << output;
  const Snapshot after = Take(vdir_);
  const std::vector<std::string> losses = Losses(before, after);
  EXPECT_TRUE(losses.empty()) << absl::StrJoin(losses, "\n") << "\n" << output;
  const std::vector<std::string> dups = Duplicates(before, output);
  EXPECT_TRUE(dups.empty()) << absl::StrJoin(dups, "\n") << "\n" << output;
  // Files a kill cut short are set aside, not left in the corpus.
  for (const std::string& name : before.torn) EXPECT_TRUE(fs::exists(vdir_ + "/quarantine/" + name)) << name;
  EXPECT_TRUE(after.torn.empty());
  // The findings known before are still in the table.
  const std::string table = Read(out_ + "/verdict.txt");
  for (const std::string& line : before.index_lines) {
    const std::string finding = line.substr(0, line.find('\t'));
    EXPECT_TRUE(absl::StrContains(table, absl::StrCat(kVariant, "  ", finding))) << finding << "\n" << table;
  }
  EXPECT_TRUE(absl::StrContains(table, "more known from earlier campaigns")) << table;

  // 3. The checks can fail: a campaign that wiped its corpus and forgot its
  //    findings at start (done here by hand, then the same restart) is
  //    caught by both.
  fs::remove_all(vdir_ + "/corpus");
  fs::remove(vdir_ + "/findings.tsv");
  for (const std::string& name : Files(vdir_)) {
    if (absl::EndsWith(name, ".txt")) fs::remove(vdir_ + "/" + name);
  }
  std::unique_ptr<Subprocess> wiped = Start({"--duration=2s", "--jobs=1", "--nominimize_corpus"}, dir_ + "/wiped.log");
  ASSERT_NE(wiped, nullptr);
  wiped->Wait();
  const std::string wiped_output = Read(dir_ + "/wiped.log");
  EXPECT_FALSE(Losses(before, Take(vdir_)).empty()) << wiped_output;
  EXPECT_FALSE(Duplicates(before, wiped_output).empty()) << wiped_output;
}

// Random inputs that give no finding: a corpus for the minimization.
void WriteRandomCorpus(const std::string& dir, int n) {
  fs::create_directories(dir);
  std::mt19937 rng(7);
  const storage::Variant v = *ParseOneVariant(kVariant);
  int written = 0;
  while (written < n) {
    std::string bytes(8 + rng() % 120, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    bytes[0] = static_cast<char>(fuzz::kFormatVersion);
    const fuzz::Program p =
        fuzz::DecodeBinary(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (RunOnce(p, v).finding != "none") continue;
    const std::string path = dir + "/" + Sha1Hex(bytes);
    if (fs::exists(path)) continue;
    ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
    ++written;
  }
}

// libFuzzer's feature count over a corpus folder ("INITED ... ft: N").
int64_t Features(const std::string& corpus, const std::string& scratch) {
  const std::string log = scratch + "/ft.log";
  absl::StatusOr<int> rc =
      RunLogged({RF_FUZZ_TARGET_DIR "/storage_always_defer_v1_fuzz", "-runs=0", corpus}, scratch, log);
  if (!rc.ok() || *rc != 0) return -1;
  for (absl::string_view line : absl::StrSplit(Read(log), '\n')) {
    if (!absl::StrContains(line, "INITED")) continue;
    size_t at = line.find("ft: ");
    int64_t ft = -1;
    if (at != absl::string_view::npos) {
      absl::string_view n = line.substr(at + 4);
      (void)absl::SimpleAtoi(n.substr(0, n.find(' ')), &ft);
    }
    return ft;
  }
  return -1;
}

// An input's features depend on the input alone, not on ASLR or on what
// the process ran before (engine/sched/coverage.h), so a corpus has the
// same feature count in every process: measured 3 times, the range must be
// one value.
std::pair<int64_t, int64_t> FeatureRange(const std::string& corpus, const std::string& scratch) {
  int64_t lo = INT64_MAX, hi = -1;
  for (int i = 0; i < 3; ++i) {
    const int64_t ft = Features(corpus, scratch);
    lo = std::min(lo, ft);
    hi = std::max(hi, ft);
  }
  return {lo, hi};
}

TEST_F(CampaignResumeTest, MinimizationKilledHalfWayResumesAndKeepsFeatures) {
  corpus_root_ = dir_ + "/no-seeds";  // the corpus is exactly these inputs
  WriteRandomCorpus(vdir_ + "/corpus", 600);
  const Snapshot before = Take(vdir_);
  ASSERT_EQ(before.files.size(), 600u);
  const auto [before_lo, before_hi] = FeatureRange(vdir_ + "/corpus", dir_);
  ASSERT_GT(before_lo, 0);
  EXPECT_EQ(before_lo, before_hi) << "the same corpus, different features in another process";

  // Killed while libFuzzer merges (its control file exists).
  std::unique_ptr<Subprocess> first = Start({"--duration=60s", "--jobs=1"}, dir_ + "/first.log");
  ASSERT_NE(first, nullptr);
  const bool merging = WaitFor(*first, absl::Seconds(60), [&] {
    std::error_code ec;
    return fs::file_size(vdir_ + "/.merge/control", ec) > 0 && !ec;
  });
  KillEverything(*first, out_);
  ASSERT_TRUE(merging) << Read(dir_ + "/first.log");
  const std::string first_output = Read(dir_ + "/first.log");
  ASSERT_FALSE(absl::StrContains(first_output, "corpus minimized")) << "the merge ended before the kill";
  // The corpus is whole: not one file gone or changed.
  EXPECT_TRUE(Losses(before, Take(vdir_)).empty());

  // Restarted: the merge resumes from its control file and replaces the
  // corpus whole; killed again as soon as it has, before fuzzing adds to it.
  std::unique_ptr<Subprocess> second = Start({"--duration=60s", "--jobs=1"}, dir_ + "/second.log");
  ASSERT_NE(second, nullptr);
  const bool merged = WaitFor(*second, absl::Seconds(120),
                              [&] { return absl::StrContains(Read(dir_ + "/second.log"), "corpus minimized"); });
  KillEverything(*second, out_);
  const std::string output = Read(dir_ + "/second.log");
  ASSERT_TRUE(merged) << output;
  EXPECT_TRUE(absl::StrContains(output, "resuming the minimization")) << output;
  EXPECT_TRUE(absl::StrContains(Read(vdir_ + "/fuzzer.log"), "non-empty control file provided"));
  const size_t kept = Files(vdir_ + "/corpus").size();
  EXPECT_LT(kept, 600u);
  EXPECT_GT(kept, 0u);
  EXPECT_FALSE(fs::exists(vdir_ + "/corpus.merge"));
  // No input that adds a feature was dropped: the minimized corpus has
  // every feature of the whole one, in every process.
  const auto [after_lo, after_hi] = FeatureRange(vdir_ + "/corpus", dir_);
  EXPECT_EQ(after_lo, after_hi);
  EXPECT_GE(after_lo, before_hi);
  // The comparison has teeth: half of the minimized corpus has clearly
  // fewer features than the whole corpus.
  const std::string half = dir_ + "/half";
  fs::create_directories(half);
  std::vector<std::string> names = Files(vdir_ + "/corpus");
  for (size_t i = 0; i < names.size(); i += 2) fs::copy_file(vdir_ + "/corpus/" + names[i], half + "/" + names[i]);
  const auto [half_lo, half_hi] = FeatureRange(half, dir_);
  EXPECT_LT(half_hi, before_lo);
  std::cout << "corpus minimized 600 -> " << kept << " files; features: " << before_lo << ".." << before_hi
            << " before, " << after_lo << ".." << after_hi << " after, " << half_lo << ".." << half_hi
            << " with half of it\n";
}

// AFL++ on the afl preset's target: runs, shows progress and a table whose
// reproducers replay; a second campaign on the folder resumes from the
// corpus AFL++'s queue was copied into and reports nothing twice.
TEST_F(CampaignResumeTest, AflEngine) {
  const std::string afl_dir = RF_SOURCE_DIR "/build/afl/fuzz";
  if (!fs::exists(afl_dir + "/" + kTarget) || !InPath("afl-fuzz")) {
    GTEST_SKIP() << "no " << afl_dir << "/" << kTarget
                 << " or no afl-fuzz: build it with 'cmake --preset afl && "
                    "cmake --build build/afl --target "
                 << kTarget << "' to run this test";
  }
  std::unique_ptr<Subprocess> first =
      Start({"--engine=afl", "--duration=10s", "--jobs=2", "--nobuild"}, dir_ + "/first.log", afl_dir);
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(first->Wait(), 0) << Read(dir_ + "/first.log");
  const std::string output = Read(dir_ + "/first.log");
  EXPECT_TRUE(absl::StrContains(output, "engine afl")) << output;
  EXPECT_TRUE(absl::StrContains(output, "[always-defer-v1")) << output;
  EXPECT_TRUE(fs::exists(vdir_ + "/afl/main/fuzzer_stats"));
  EXPECT_TRUE(fs::exists(vdir_ + "/afl/s1/fuzzer_stats"));
  const std::string table = Read(out_ + "/verdict.txt");
  EXPECT_FALSE(absl::StrContains(table, " error ")) << table;
  // The executions column of the summary row is not zero.
  int64_t execs = 0;
  int rows = 0;
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    std::vector<std::string> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (cols.empty() || cols[0] != kVariant) continue;
    if (cols.size() == 4) {
      ++rows;
      if (cols[1] == "none") continue;
      // Every finding's reproducer gives that finding.
      absl::StatusOr<fuzz::Program> p = LoadProgram(cols[3]);
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_EQ(RunOnce(*p, *ParseOneVariant(kVariant)).finding, cols[1]) << cols[3];
    } else if (cols.size() == 7) {
      (void)absl::SimpleAtoi(cols[2], &execs);
    }
  }
  EXPECT_GE(rows, 1) << table;
  EXPECT_GT(execs, 0) << table;
  // AFL++'s queue is in the durable corpus; crashes are named by content.
  const Snapshot before = Take(vdir_);
  EXPECT_TRUE(before.torn.empty());
  EXPECT_GT(Files(vdir_ + "/corpus").size(), 10u);
  std::cout << "afl: " << execs << " executions, " << Files(vdir_ + "/corpus").size() << " corpus files, "
            << Files(vdir_ + "/crashes").size() << " crashes, " << before.index_lines.size() << " findings\n"
            << table;

  std::unique_ptr<Subprocess> second =
      Start({"--engine=afl", "--duration=5s", "--jobs=2", "--nobuild"}, dir_ + "/second.log", afl_dir);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(second->Wait(), 0) << Read(dir_ + "/second.log");
  const std::string again = Read(dir_ + "/second.log");
  EXPECT_TRUE(Losses(before, Take(vdir_)).empty()) << again;
  EXPECT_TRUE(Duplicates(before, again).empty()) << again;
}

}  // namespace
}  // namespace reclaimfuzz::cli
