// SPDX-License-Identifier: MIT
// libFuzzer in fork mode: -fork=<jobs> with -ignore_crashes=1, so a crash
// ends one job and the others go on; artifacts go straight to
// <dir>/crashes/. Progress comes from the status lines on its stderr.
//
// Fork mode only adds files to <dir>/corpus/ (named by their SHA-1, after
// each job's own merge); the jobs' corpora live in TMPDIR=spec.tmp_dir.
// libFuzzer writes files in place (not atomically): a kill can leave one
// cut short, which the campaign recognizes by its name (durable.h).
#include <csignal>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/cli/engine.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli {
namespace {

class LibFuzzerEngine : public FuzzEngine {
 public:
  const char* name() const override { return "libfuzzer"; }
  const char* preset() const override { return "asan"; }

  absl::Status Start(const SessionSpec& spec) override {
    std::vector<std::string> argv = {spec.target,
                                     absl::StrCat("-fork=", spec.jobs),
                                     "-ignore_crashes=1",
                                     "-ignore_timeouts=1",
                                     "-ignore_ooms=1",
                                     absl::StrCat("-max_total_time=", spec.seconds),
                                     "-timeout=10",
                                     "-print_final_stats=0",
                                     absl::StrCat("-artifact_prefix=", spec.dir, "/crashes/")};
    if (spec.seed != 0) argv.push_back(absl::StrCat("-seed=", spec.seed));
    argv.push_back(spec.dir + "/corpus");
    log_.open(spec.log_path, std::ios::app);
    for (const std::string& e : spec.env) log_ << "$ export " << e << "\n";
    log_ << "$ " << absl::StrJoin(argv, " ") << "\n" << std::flush;
    SpawnOptions so;
    so.cwd = spec.dir;
    so.env_set = spec.env;
    if (!spec.tmp_dir.empty()) so.env_set.push_back("TMPDIR=" + spec.tmp_dir);
    absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
    if (!p.ok()) return p.status();
    proc_ = *std::move(p);
    return absl::OkStatus();
  }

  bool Pump(int timeout_ms, FuzzerProgress* p) override {
    const bool open = proc_->Read(timeout_ms, &buf_);
    size_t nl;
    while ((nl = buf_.find('\n')) != std::string::npos) {
      const std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      log_ << line << "\n";
      ParseLibFuzzerLine(line, p);
    }
    if (open) return true;
    // The pipe closed: the process is exiting (its jobs may linger).
    return !proc_->Poll().has_value();
  }

  void Signal(int sig) override { proc_->Signal(sig); }

  int Wait() override {
    log_ << buf_;
    buf_.clear();
    const int status = proc_->Wait();
    // Jobs left behind by a signal go with the process group.
    proc_->KillGroup();
    log_.close();
    return status;
  }

  std::vector<std::string> ReplayCommand(const std::string& target, const std::string& input,
                                         const std::string& scratch) const override {
    return {target, "-timeout=25", "-runs=1", absl::StrCat("-artifact_prefix=", scratch, "/"), input};
  }

  std::vector<std::string> MergeCommand(const std::string& target, const std::string& dest, const std::string& src,
                                        const std::string& control) const override {
    return {target, "-merge=1", absl::StrCat("-merge_control_file=", control), "-timeout=10", "-print_final_stats=0",
            // Inputs that crash while merging are not kept; their
            // artifacts go beside the control file, not into crashes/.
            absl::StrCat("-artifact_prefix=", control.substr(0, control.rfind('/') + 1)), dest, src};
  }

 private:
  std::unique_ptr<Subprocess> proc_;
  std::ofstream log_;
  std::string buf_;
};

}  // namespace

std::unique_ptr<FuzzEngine> MakeLibFuzzerEngine() { return std::make_unique<LibFuzzerEngine>(); }

}  // namespace reclaimfuzz::cli
