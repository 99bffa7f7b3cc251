// SPDX-License-Identifier: MIT
#include "tools/cli/target_replay.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "tools/cli/common.h"
#include "tools/cli/durable.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

namespace {

// A private scratch folder, removed with its content at the end of scope.
class Scratch {
 public:
  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "reclaimfuzz-replay-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace

std::string AsanTargetFor(storage::Variant v) {
  const std::string path = absl::StrCat(SourceDir(), "/build/asan/fuzz/", FuzzTargetName(v));
  std::error_code ec;
  return fs::is_regular_file(path, ec) && access(path.c_str(), X_OK) == 0 ? path : "";
}

namespace {

absl::StatusOr<fuzz::Execution> Run(std::vector<std::string> argv, const std::string& log, const Scratch& scratch) {
  const std::string out = scratch.dir() + "/finding.json";
  SpawnOptions so;
  so.output_file = log.empty() ? scratch.dir() + "/target.log" : log;
  so.env_set = {absl::StrCat("RECLAIMFUZZ_FINDING_OUT=", out), "RECLAIMFUZZ_IGNORE=", "RECLAIMFUZZ_ABORT_ON="};
  // A TSan build goes on after its first report, to the end of the
  // execution, and writes it then (fuzz/sanitizer_report.h): halting in the
  // report would leave nothing written.
  const char* tsan = getenv("TSAN_OPTIONS");
  so.env_set.push_back(absl::StrCat("TSAN_OPTIONS=", tsan != nullptr ? tsan : "", tsan != nullptr && *tsan ? ":" : "",
                                    "halt_on_error=0"));
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
  if (!p.ok()) return p.status();
  const int rc = (*p)->Wait();
  std::error_code ec;
  if (!fs::exists(out, ec)) {
    if (rc == 0) return fuzz::Execution{};
    // libFuzzer's exit status for a timeout (-timeout_exitcode's default).
    if (rc == 70) return absl::DeadlineExceededError("timeout");
    return absl::AbortedError(absl::StrCat("crash (exit ", rc, ")"));
  }
  absl::StatusOr<std::string> json = ReadFile(out);
  if (!json.ok()) return json.status();
  return fuzz::ExecutionFromJson(*json);
}

}  // namespace

absl::StatusOr<fuzz::Execution> ReplayOnTarget(const std::string& target, const std::string& input,
                                               const std::string& log) {
  Scratch scratch;
  if (scratch.dir().empty()) return absl::UnavailableError("cannot create a temporary folder");
  // One run of the input: libFuzzer's driver and the standalone one both
  // take a file argument; the artifact of a crash goes to the scratch folder.
  return Run({target, "-runs=1", "-timeout=25", absl::StrCat("-artifact_prefix=", scratch.dir(), "/"), input}, log,
             scratch);
}

absl::StatusOr<fuzz::Execution> ReplayOnTargetCommand(const std::vector<std::string>& argv) {
  Scratch scratch;
  if (scratch.dir().empty()) return absl::UnavailableError("cannot create a temporary folder");
  return Run(argv, "", scratch);
}

absl::StatusOr<fuzz::Execution> ReplayProgramOnTarget(const std::string& target, const fuzz::Program& p) {
  Scratch scratch;
  if (scratch.dir().empty()) return absl::UnavailableError("cannot create a temporary folder");
  const std::vector<uint8_t> bytes = fuzz::EncodeBinary(p);
  const std::string input = scratch.dir() + "/input";
  if (absl::Status s =
          WriteFileAtomic(input, absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      !s.ok()) {
    return s;
  }
  return ReplayOnTarget(target, input);
}

}  // namespace reclaimfuzz::cli
