// SPDX-License-Identifier: MIT
#include "tools/cli/corpus_store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fuzz/program.h"
#include "tools/cli/common.h"
#include "tools/cli/durable.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

// Files of a folder (not hidden, not being written by WriteFileAtomic).
std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file(ec)) continue;
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Fuzzers a killed campaign left running on this variant's folder: every
// process whose working folder is `dir` (or inside it) and whose program
// is the fuzz target or afl-fuzz. Returns how many were killed.
int KillLeftovers(const std::string& dir, const std::string& target) {
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(dir, ec);
  const std::string target_name = fs::path(target).filename().string();
  std::vector<pid_t> killed;
  for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid_s = e.path().filename().string();
    pid_t pid = 0;
    if (!absl::SimpleAtoi(pid_s, &pid) || pid == getpid()) continue;
    std::error_code e1, e2;
    const fs::path cwd = fs::read_symlink(e.path() / "cwd", e1);
    std::string exe = fs::read_symlink(e.path() / "exe", e2).string();
    if (e1 || e2) continue;
    if (absl::EndsWith(exe, " (deleted)")) exe.resize(exe.size() - 10);
    const std::string exe_name = fs::path(exe).filename().string();
    if (exe_name != target_name && exe_name != "afl-fuzz") continue;
    const std::string c = cwd.string(), b = base.string();
    if (c != b && !absl::StartsWith(c, b + "/")) continue;
    if (kill(pid, SIGKILL) == 0) killed.push_back(pid);
  }
  // Wait until they are gone (or zombies, for their parent to reap).
  const absl::Time until = absl::Now() + absl::Seconds(5);
  for (pid_t pid : killed) {
    while (absl::Now() < until) {
      absl::StatusOr<std::string> stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
      if (!stat.ok()) break;
      const size_t paren = stat->rfind(')');
      if (paren != std::string::npos && paren + 2 < stat->size() &&
          ((*stat)[paren + 2] == 'Z' || (*stat)[paren + 2] == 'X'))
        break;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  return static_cast<int>(killed.size());
}

// The names of a folder's files, hashed: a merge control file is reused
// only for the corpus it was made for.
std::string ListingHash(const std::string& dir) {
  std::string all;
  for (const std::string& f : FilesIn(dir)) absl::StrAppend(&all, fs::path(f).filename().string(), "\n");
  return Sha1Hex(all);
}

// Undoes what a kill can leave: temporary files of atomic writes, and
// files libFuzzer was writing in place (their content no longer matches
// the SHA-1 they are named by) moved to quarantine/.
int RepairFolder(const std::string& dir) {
  std::error_code ec;
  int cut = 0;
  for (const std::string& sub : {std::string("/corpus"), std::string("/crashes"), std::string("")}) {
    for (const fs::directory_entry& e : fs::directory_iterator(dir + sub, ec)) {
      const std::string name = e.path().filename().string();
      if (name[0] == '.' && absl::StrContains(name, ".tmp.") && e.is_regular_file(ec)) {
        fs::remove(e.path(), ec);
        continue;
      }
      if (sub.empty() || name[0] == '.' || !e.is_regular_file(ec)) continue;
      absl::StatusOr<std::string> bytes = ReadFile(e.path().string());
      if (!bytes.ok() || ContentMatchesName(name, *bytes)) continue;
      fs::create_directories(dir + "/quarantine", ec);
      fs::rename(e.path(), absl::StrCat(dir, "/quarantine/", name), ec);
      ++cut;
    }
  }
  return cut;
}

absl::StatusOr<int> PrepareCorpus(const std::vector<std::string>& seed_dirs, const std::string& work_dir,
                                  std::vector<std::string>* skipped) {
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", work_dir, ": ", ec.message()));
  std::vector<std::string> paths;
  for (const std::string& seed_dir : seed_dirs) {
    if (!fs::is_directory(seed_dir, ec)) continue;
    fs::recursive_directory_iterator it(seed_dir, fs::directory_options::skip_permission_denied, ec);
    for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        if (name == "regression" || name[0] == '.') it.disable_recursion_pending();
        continue;
      }
      if (name[0] == '.' || name == "expected.txt" || absl::EndsWith(name, ".md")) continue;
      if (it->is_regular_file(ec)) paths.push_back(it->path().string());
    }
    if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot read ", seed_dir, ": ", ec.message()));
  }
  std::sort(paths.begin(), paths.end());
  std::set<std::string> written;
  for (const std::string& path : paths) {
    absl::StatusOr<fuzz::Program> p = LoadProgram(path);
    if (!p.ok()) {
      if (skipped != nullptr) skipped->push_back(std::string(p.status().message()));
      continue;
    }
    const std::vector<uint8_t> bin = fuzz::EncodeBinary(*p);
    const absl::string_view bytes(reinterpret_cast<const char*>(bin.data()), bin.size());
    // Named as libFuzzer names corpus files: by the SHA-1 of the content.
    const std::string name = Sha1Hex(bytes);
    if (!written.insert(name).second) continue;
    const std::string dest = absl::StrCat(work_dir, "/", name);
    if (fs::exists(dest, ec)) continue;  // a campaign resumed: already there
    if (absl::Status s = WriteFileAtomic(dest, bytes); !s.ok()) return s;
  }
  return static_cast<int>(written.size());
}

}  // namespace reclaimfuzz::cli
