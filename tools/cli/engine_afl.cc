// AFL++: one afl-fuzz per job, "-M main" and "-S s1", "-S s2", ... sharing
// <dir>/afl/, each for -V <seconds>, on the afl preset's targets (persistent
// mode through AFL++'s libFuzzer driver). AFL++ keeps fuzzing after a crash
// by design. Progress is read from each instance's fuzzer_stats; crashes
// are copied from <dir>/afl/<instance>/crashes*/ into <dir>/crashes/.
//
// AFL_AUTORESUME lets a restarted session continue from the queue of the
// previous one; AFL++ then renames crashes/ to crashes.<date>/, which is
// why crashes are collected by copy.
#include <unistd.h>

#include <algorithm>
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
#include "tools/cli/engine.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

bool ParseAflStats(absl::string_view text, FuzzerProgress* p) {
  bool any = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (kv.size() != 2) continue;
    const absl::string_view key = absl::StripAsciiWhitespace(kv[0]);
    const absl::string_view val = absl::StripAsciiWhitespace(kv[1]);
    double d = 0;
    uint64_t n = 0;
    if (key == "execs_done" && absl::SimpleAtoi(val, &n)) {
      p->execs = n;
      any = true;
    } else if (key == "execs_per_sec" && absl::SimpleAtod(val, &d)) {
      p->exec_per_sec = static_cast<uint64_t>(d);
    } else if (key == "edges_found" && absl::SimpleAtoi(val, &n)) {
      p->cov = n;
    } else if (key == "corpus_count" && absl::SimpleAtoi(val, &n)) {
      p->corpus = n;
    } else if ((key == "saved_crashes" || key == "unique_crashes") &&
               absl::SimpleAtoi(val, &n)) {
      p->crashes = n;
    } else if ((key == "saved_hangs" || key == "unique_hangs") &&
               absl::SimpleAtoi(val, &n)) {
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
    std::ofstream log(spec.log_path, std::ios::app);
    procs_.clear();
    names_.clear();
    for (int j = 0; j < spec.jobs; ++j) {
      const std::string name = j == 0 ? "main" : absl::StrCat("s", j);
      std::vector<std::string> argv = {
          "afl-fuzz", "-i", spec.dir + "/corpus",
          "-o",       out_, j == 0 ? "-M" : "-S",
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
      for (const char* e :
           {"AFL_NO_UI=1", "AFL_SKIP_CPUFREQ=1",
            "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1", "AFL_SKIP_CRASHES=1",
            "AFL_NO_AFFINITY=1", "AFL_AUTORESUME=1"}) {
        so.env_set.push_back(e);
      }
      log << "$ " << absl::StrJoin(so.env_set, " ") << " "
          << absl::StrJoin(argv, " ") << "  # output: " << so.output_file
          << "\n";
      absl::StatusOr<std::unique_ptr<Subprocess>> p =
          Subprocess::Start(argv, so);
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
      absl::StatusOr<std::string> stats =
          ReadFile(absl::StrCat(out_, "/", name, "/fuzzer_stats"));
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
    bool running = false;
    for (auto& proc : procs_) running |= !proc->Poll().has_value();
    return running;
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

  void CollectCrashes() override {
    std::error_code ec;
    for (const fs::directory_entry& inst : fs::directory_iterator(out_, ec)) {
      if (!inst.is_directory(ec)) continue;
      for (const fs::directory_entry& d :
           fs::directory_iterator(inst.path(), ec)) {
        const std::string dn = d.path().filename().string();
        if (!d.is_directory(ec) || dn.rfind("crashes", 0) != 0) continue;
        for (const fs::directory_entry& f :
             fs::directory_iterator(d.path(), ec)) {
          const std::string fn = f.path().filename().string();
          if (!f.is_regular_file(ec) || fn.rfind("id:", 0) != 0) continue;
          // The file name (id, time, execs) identifies a crash wherever
          // AFL++ moved it.
          const std::string name =
              absl::StrCat("afl-", inst.path().filename().string(), "-", fn);
          if (!copied_.insert(name).second) continue;
          fs::copy_file(f.path(), absl::StrCat(dir_, "/crashes/", name),
                        fs::copy_options::skip_existing, ec);
        }
      }
    }
  }

  std::vector<std::string> ReplayCommand(const std::string& target,
                                         const std::string& input,
                                         const std::string&) const override {
    return {target, input};
  }

 private:
  std::string dir_, out_;
  std::vector<std::unique_ptr<Subprocess>> procs_;
  std::vector<std::string> names_, log_files_;
  std::set<std::string> copied_;
};

}  // namespace

std::unique_ptr<FuzzEngine> MakeAflEngine() {
  return std::make_unique<AflEngine>();
}

}  // namespace reclaimfuzz::cli
