// SPDX-License-Identifier: MIT
// AFL++: one afl-fuzz per job, "-M main" and "-S s1", "-S s2", ... sharing
// <dir>/afl/, each for -V <seconds>, on the afl preset's targets (persistent
// mode through AFL++'s libFuzzer driver). AFL++ keeps fuzzing after a crash
// by design. Progress is read from each instance's fuzzer_stats.
//
// <dir>/corpus/ stays the one durable corpus, as with libFuzzer: every
// queue entry of every instance is copied into it (SyncCorpus, each file
// written atomically under the SHA-1 of its content) and every crash into
// <dir>/crashes/crash-<sha1> (CollectCrashes), once a second while AFL++
// runs. A session starts by copying what a killed session left in <dir>/afl/,
// then starts AFL++ afresh on <dir>/corpus/ (no AFL_AUTORESUME: AFL++'s own
// resume moves its queue around, which a kill at the wrong moment can
// leave half done).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/cli/common.h"
#include "tools/cli/durable.h"
#include "tools/cli/engine.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

bool ParseAflStats(absl::string_view text, FuzzerProgress* p) {
  bool any = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (kv.size() != 2) continue;
    const absl::string_view key = absl::StripAsciiWhitespace(kv[0]);
    const absl::string_view val = absl::StripAsciiWhitespace(kv[1]);
    double d = 0;
    uint64_t n = 0;
    if (key == "execs_done" && absl::SimpleAtoi(val, &n)) {
      p->execs = n;
      any = true;
    } else if (key == "execs_per_sec" && absl::SimpleAtod(val, &d)) {
      // AFL++ writes "inf" in its first second (no time elapsed yet).
      p->exec_per_sec = std::isfinite(d) && d >= 0 && d < 1e18 ? static_cast<uint64_t>(d) : 0;
    } else if (key == "edges_found" && absl::SimpleAtoi(val, &n)) {
      p->cov = n;
    } else if (key == "corpus_count" && absl::SimpleAtoi(val, &n)) {
      p->corpus = n;
    } else if ((key == "saved_crashes" || key == "unique_crashes") && absl::SimpleAtoi(val, &n)) {
      p->crashes = n;
    } else if ((key == "saved_hangs" || key == "unique_hangs") && absl::SimpleAtoi(val, &n)) {
      p->timeouts = n;
    } else if (key == "run_time" && absl::SimpleAtoi(val, &n)) {
      p->seconds = n;
    }
  }
  if (any) p->any = true;
  return any;
}

namespace {

class AflEngine : public FuzzEngine {
 public:
  const char* name() const override { return "afl"; }
  const char* preset() const override { return "afl"; }

  absl::Status Start(const SessionSpec& spec) override {
    dir_ = spec.dir;
    out_ = spec.dir + "/afl";
    // What the last session (perhaps killed) found is kept; then afresh.
    copied_.clear();
    SyncCorpus();
    CollectCrashes();
    std::error_code ec;
    fs::remove_all(out_, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("cannot remove ", out_, ": ", ec.message()));
    }
    copied_.clear();
    std::ofstream log(spec.log_path, std::ios::app);
    procs_.clear();
    names_.clear();
    for (int j = 0; j < spec.jobs; ++j) {
      const std::string name = j == 0 ? "main" : absl::StrCat("s", j);
      std::vector<std::string> argv = {"afl-fuzz", "-i", spec.dir + "/corpus",      "-o", out_, j == 0 ? "-M" : "-S",
                                       name,       "-V", absl::StrCat(spec.seconds)};
      if (spec.seed != 0) {
        argv.push_back("-s");
        argv.push_back(absl::StrCat(spec.seed + j));
      }
      argv.push_back("--");
      argv.push_back(spec.target);
      SpawnOptions so;
      so.cwd = spec.dir;
      so.output_file = absl::StrCat(spec.dir, "/afl-", name, ".log");
      so.append = true;
      so.env_set = spec.env;
      if (!spec.tmp_dir.empty()) so.env_set.push_back("TMPDIR=" + spec.tmp_dir);
      for (const char* e : {"AFL_NO_UI=1", "AFL_SKIP_CPUFREQ=1", "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1",
                            "AFL_SKIP_CRASHES=1", "AFL_NO_AFFINITY=1",
                            // AFL++ refuses sanitizer options without these (the afl build
                            // has no sanitizer; a user's ASAN_OPTIONS, or the asan test
                            // preset's, would stop it at startup).
                            "ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0",
                            "UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0"}) {
        so.env_set.push_back(e);
      }
      log << "$ " << absl::StrJoin(so.env_set, " ") << " " << absl::StrJoin(argv, " ")
          << "  # output: " << so.output_file << "\n";
      absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
      if (!p.ok()) {
        Signal(SIGTERM);
        return p.status();
      }
      procs_.push_back(*std::move(p));
      names_.push_back(name);
      log_files_.push_back(so.output_file);
    }
    return absl::OkStatus();
  }

  bool Pump(int timeout_ms, FuzzerProgress* p) override {
    usleep(static_cast<useconds_t>(timeout_ms) * 1000);
    FuzzerProgress sum;
    for (const std::string& name : names_) {
      absl::StatusOr<std::string> stats = ReadFile(absl::StrCat(out_, "/", name, "/fuzzer_stats"));
      FuzzerProgress one;
      if (!stats.ok() || !ParseAflStats(*stats, &one)) continue;
      sum.any = true;
      sum.execs += one.execs;
      sum.exec_per_sec += one.exec_per_sec;
      sum.crashes += one.crashes;
      sum.timeouts += one.timeouts;
      sum.cov = std::max(sum.cov, one.cov);
      sum.corpus = std::max(sum.corpus, one.corpus);
      sum.seconds = std::max(sum.seconds, one.seconds);
    }
    if (sum.any) *p = sum;
    return Running();
  }

  void Signal(int sig) override {
    for (auto& proc : procs_) proc->Signal(sig);
  }

  int Wait() override {
    int status = 0;
    for (size_t i = 0; i < procs_.size(); ++i) {
      const int s = procs_[i]->Wait();
      if (i == 0) status = s;
    }
    return status;
  }

  void CollectCrashes() override { Copy("crashes", "/crashes/crash-"); }
  void SyncCorpus() override { Copy("queue", "/corpus/"); }

  std::vector<std::string> ReplayCommand(const std::string& target, const std::string& input,
                                         const std::string&) const override {
    return {target, input};
  }

 private:
  std::string dir_, out_;
  std::vector<std::unique_ptr<Subprocess>> procs_;
  std::vector<std::string> names_, log_files_;
  std::set<std::string> copied_;

  bool Running() {
    bool running = false;
    for (auto& proc : procs_) running |= !proc->Poll().has_value();
    return running;
  }

  // Copies <out>/<instance>/<folder>*/id:* into <dir><prefix><sha1>, each
  // atomically, skipping contents already there.
  void Copy(const std::string& folder, const std::string& prefix) {
    std::error_code ec;
    for (const fs::directory_entry& inst : fs::directory_iterator(out_, ec)) {
      if (!inst.is_directory(ec)) continue;
      for (const fs::directory_entry& d : fs::directory_iterator(inst.path(), ec)) {
        const std::string dn = d.path().filename().string();
        if (!d.is_directory(ec) || dn.rfind(folder, 0) != 0) continue;
        for (const fs::directory_entry& f : fs::directory_iterator(d.path(), ec)) {
          const std::string fn = f.path().filename().string();
          if (!f.is_regular_file(ec) || fn.rfind("id:", 0) != 0) continue;
          // AFL++ writes in place: while it runs, a young file may still
          // be being written; it is copied on a later call.
          if (Running() && f.last_write_time(ec) > fs::file_time_type::clock::now() - std::chrono::seconds(1)) {
            continue;
          }
          if (!copied_.insert(f.path().string()).second) continue;
          absl::StatusOr<std::string> bytes = ReadFile(f.path().string());
          if (!bytes.ok()) {
            copied_.erase(f.path().string());  // next time
            continue;
          }
          const std::string dest = dir_ + prefix + Sha1Hex(*bytes);
          if (!fs::exists(dest, ec)) WriteFileAtomic(dest, *bytes).IgnoreError();
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<FuzzEngine> MakeAflEngine() { return std::make_unique<AflEngine>(); }

}  // namespace reclaimfuzz::cli
