// SPDX-License-Identifier: MIT
#include "tools/cli/common.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/cli/flags.h"

#ifndef RF_SOURCE_DIR
#define RF_SOURCE_DIR "."
#endif

namespace reclaimfuzz::cli {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  return data;
}

absl::Status WriteFile(const std::string& path, absl::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  return absl::OkStatus();
}

absl::StatusOr<fuzz::Program> DecodeProgram(const std::string& path, absl::string_view bytes) {
  const absl::Span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  absl::StatusOr<fuzz::Program> p = fuzz::DecodeAny(span);
  if (p.ok()) return p;
  // DecodeAny takes input that starts with a letter for text; a fuzzer's
  // binary input may too. Control bytes no text file holds mean binary
  // (UTF-8 text stays text).
  for (unsigned char c : bytes) {
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return fuzz::DecodeBinary(span);
  }
  // The parser says "line 7, column 12: msg"; print it the way compilers do.
  absl::string_view msg = p.status().message();
  int line = 0, column = 0;
  if (absl::ConsumePrefix(&msg, "line ")) {
    std::vector<absl::string_view> parts = absl::StrSplit(msg, absl::MaxSplits(": ", 1));
    std::vector<absl::string_view> lc = absl::StrSplit(parts[0], ", column ");
    if (parts.size() == 2 && lc.size() == 2 && absl::SimpleAtoi(lc[0], &line) && absl::SimpleAtoi(lc[1], &column)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ":", column, ": ", parts[1]));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", p.status().message()));
}

absl::StatusOr<fuzz::Program> LoadProgram(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return DecodeProgram(path, *bytes);
}

std::string AllVariantNames() {
  std::vector<std::string> names;
  for (storage::Variant v : storage::AllVariants())
    if (fuzz::VariantBuilt(v)) names.push_back(storage::VariantName(v));
  return absl::StrJoin(names, ", ");
}

std::string ReplayCommand(absl::string_view variant, absl::string_view input) {
  std::string tree_args;
  const char* tree = getenv("RECLAIMFUZZ_KERNEL_TREE");
  const bool base = variant == "tree-base";
  if ((variant == "tree" || base) && tree != nullptr && *tree != '\0') {
    absl::StrAppend(&tree_args, " --kernel-tree ", tree);
    const char* patches = getenv("RECLAIMFUZZ_KERNEL_PATCHES");
    if (!base && patches != nullptr) {
      for (absl::string_view p : absl::StrSplit(patches, ';', absl::SkipEmpty()))
        absl::StrAppend(&tree_args, " --patch ", p);
    }
    variant = "tree";
  }
  return absl::StrCat("tools/reclaimfuzz replay", tree_args, " --variant ", variant, " ", input);
}

absl::StatusOr<storage::Variant> ParseOneVariant(absl::string_view name) {
  absl::StatusOr<storage::Variant> v = storage::ParseVariant(absl::StripAsciiWhitespace(name));
  if (!v.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown variant '", name, "' (", AllVariantNames(), ")"));
  }
  if (!fuzz::VariantBuilt(*v)) {
    return absl::FailedPreconditionError(
        absl::StrCat("variant '", name, "' is a kernel tree this build did not compile (RF_LINUX_TREES; ",
                     "tools/reclaimfuzz deps installs Debian's linux-source packages)"));
  }
  return v;
}

absl::StatusOr<std::vector<storage::Variant>> ParseVariantList(absl::string_view list) {
  std::vector<storage::Variant> out;
  list = absl::StripAsciiWhitespace(list);
  if (list.empty() || list == "all") {
    for (storage::Variant v : storage::AllVariants())
      if (fuzz::VariantBuilt(v)) out.push_back(v);
    return out;
  }
  for (absl::string_view name : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    absl::StatusOr<storage::Variant> v = ParseOneVariant(name);
    if (!v.ok()) return v.status();
    bool seen = false;
    for (storage::Variant w : out) seen |= w == *v;
    if (!seen) out.push_back(*v);
  }
  return out;
}

std::string FuzzTargetName(storage::Variant v) { return absl::StrCat("storage_", storage::VariantIdent(v), "_fuzz"); }

ProgramSize SizeOf(const fuzz::Program& p) {
  ProgramSize s;
  s.tasks = static_cast<int>(p.tasks.size());
  s.irqs = static_cast<int>(p.irqs.size());
  for (const fuzz::TaskDecl& t : p.tasks) {
    s.steps += static_cast<int>(t.steps.size());
    for (const fuzz::Step& st : t.steps) s.ops += static_cast<int>(st.ops.size());
  }
  for (const fuzz::IrqDecl& q : p.irqs) s.ops += static_cast<int>(q.ops.size());
  s.schedule = static_cast<int>(p.schedule.size());
  return s;
}

std::string FormatSize(const ProgramSize& s) {
  return absl::StrCat(s.tasks, " tasks, ", s.irqs, " irqs, ", s.steps, " steps, ", s.ops, " ops, ", s.schedule,
                      " schedule events");
}

fuzz::Program AsTargetsRun(fuzz::Program p, storage::Variant v) {
  fuzz::AsFuzzTargetsRun(p, v);
  return p;
}

std::optional<sched::PreemptModel> PreemptFlag() { return sched::ParsePreemptModel(absl::GetFlag(FLAGS_preempt)); }

fuzz::RunResult RunOnce(const fuzz::Program& in, storage::Variant v, bool record_schedule) {
  const fuzz::Program p = AsTargetsRun(in, v);
  fuzz::RunOptions o;
  o.variant = v;
  o.preempt = PreemptFlag();
  o.on_finding = check::OnFinding::kStop;
  o.record_schedule = record_schedule;
  return fuzz::RunProgram(p, o);
}

absl::StatusOr<std::string> InChild(const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    const std::string out = fn();
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) _exit(1);
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return absl::AbortedError(absl::StrCat("crash (signal ", WTERMSIG(status), ")"));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::AbortedError(absl::StrCat("crash (exit ", WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")"));
  }
  return out;
}

absl::StatusOr<fuzz::Finding> FindingInChild(const fuzz::Program& p, storage::Variant v) {
  absl::StatusOr<std::string> json = InChild([&] {
    fuzz::Execution e;
    (void)RunOnce(p, v);
    e.finding = fuzz::LastFinding(v);
    return fuzz::ExecutionToJson(e);
  });
  if (!json.ok()) return json.status();
  absl::StatusOr<fuzz::Execution> e = fuzz::ExecutionFromJson(*json);
  if (!e.ok()) return e.status();
  return e->finding;
}

std::string FileNameFor(absl::string_view finding) {
  std::string out(finding);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') c = '_';
  }
  if (out.empty() || out[0] == '.') out.insert(0, "f");
  return out;
}

std::string SourceDir() { return RF_SOURCE_DIR; }

namespace {
volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }
}  // namespace

InterruptScope::InterruptScope() {
  g_interrupted = 0;
  struct sigaction sa = {};
  sa.sa_handler = &OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool Interrupted() { return g_interrupted != 0; }

}  // namespace reclaimfuzz::cli
