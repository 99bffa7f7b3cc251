// SPDX-License-Identifier: MIT
#include "fuzz/sanitizer_report.h"

#include <execinfo.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/finding.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RF_TSAN 1
#endif
#endif

#if defined(RF_ASAN) || defined(RF_TSAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(RF_ASAN)
#include <sanitizer/asan_interface.h>
#endif

// Not TSan-instrumented: code that runs inside a TSan report.
#define RF_NOT_TSAN __attribute__((no_sanitize("thread")))

#if defined(RF_TSAN)
// TSan's report accessors (tsan_debugging.cpp), for its report hook.
extern "C" {
int __tsan_get_report_data(void* report, const char** description, int* count, int* stack_count, int* mop_count,
                           int* loc_count, int* mutex_count, int* thread_count, int* unique_tid_count,
                           void** sleep_trace, uintptr_t trace_size);
int __tsan_get_report_mop(void* report, uintptr_t idx, int* tid, void** addr, int* size, int* write, int* atomic,
                          void** trace, uintptr_t trace_size);
}
#endif

namespace reclaimfuzz::fuzz {
namespace {

const Program* g_input = nullptr;
storage::Variant g_variant = storage::Variant::kV4;

const char* OutPath() {
  const char* p = getenv("RECLAIMFUZZ_FINDING_OUT");
  return p != nullptr && *p != '\0' ? p : nullptr;
}

void WriteJson(const Execution& e) {
  const char* path = OutPath();
  if (path == nullptr) return;
  const std::string json = ExecutionToJson(e);
  if (FILE* f = fopen(path, "w")) {
    fwrite(json.data(), 1, json.size(), f);
    fclose(f);
  }
}

#if defined(RF_ASAN) || defined(RF_TSAN)
// Where the machine was when the sanitizer reported.
struct Position {
  uint64_t step = 0;
  int task = -1;
  int vcpu = -1;
  int depth = 0;
};

// Reads only inline accessors and engine/sched code (TSan-ignorelisted):
// safe inside a TSan report.
RF_NOT_TSAN Position Now() {
  Position at;
  if (const sched::Scheduler* s = sched::Scheduler::Current()) {
    at.step = s->step();
    at.task = s->current_task();
    at.vcpu = s->current_vcpu();
    at.depth = s->current_depth();
  }
  return at;
}
#endif

#if defined(RF_TSAN)
// A TSan report, as the report hook saw it. TSan calls the hook while it
// holds its own locks, where TSan-instrumented code (the finding's capture,
// the JSON writer) would deadlock in the runtime; so the hook only copies
// what the report says, and the execution is written after the run
// (WriteSanitizerFindingAfterRun).
struct TsanReport {
  bool seen = false;
  const char* description = "";
  void* pcs[64] = {};
  int n = 0;
  void* addr = nullptr;
  int size = 0;
  bool write = false;
  Position at;
} g_tsan;

RF_NOT_TSAN void OnTsanReport(void* report) {
  if (g_tsan.seen || g_input == nullptr) return;  // the first report of the execution
  g_tsan.seen = true;
  int count = 0, stacks = 0, mops = 0, locs = 0, mutexes = 0, threads = 0, tids = 0;
  void* sleep[1] = {};
  const char* description = nullptr;
  if (__tsan_get_report_data(report, &description, &count, &stacks, &mops, &locs, &mutexes, &threads, &tids, sleep,
                             1) != 0 &&
      description != nullptr) {
    g_tsan.description = description;  // a string of the runtime's
  }
  if (mops > 0) {
    int tid = 0, size = 0, write = 0, atomic = 0;
    void* addr = nullptr;
    for (void*& pc : g_tsan.pcs) pc = nullptr;
    __tsan_get_report_mop(report, 0, &tid, &addr, &size, &write, &atomic, g_tsan.pcs, 64);
    g_tsan.addr = addr;
    g_tsan.size = size;
    g_tsan.write = write != 0;
    while (g_tsan.n < 64 && g_tsan.pcs[g_tsan.n] != nullptr) ++g_tsan.n;
  }
  g_tsan.at = Now();
}
#endif

#if defined(RF_ASAN) || defined(RF_TSAN)
std::string Symbolize(void* pc, const char* fmt) {
  char buf[512];
  buf[0] = '\0';
  // The symbolizer wants the address of the call instruction, not of the
  // return: one byte back lands inside it.
  __sanitizer_symbolize_pc(static_cast<char*>(pc) - 1, fmt, buf, sizeof buf);
  return buf;
}

#if defined(RF_ASAN)
// ASan's stack of an allocation or a free of `addr`, innermost first.
std::string SiteOf(bool free, void* addr) {
  void* trace[64];
  int tid = 0;
  const size_t n = free ? __asan_get_free_stack(addr, trace, 64, &tid) : __asan_get_alloc_stack(addr, trace, 64, &tid);
  return FirstProjectFrame(trace, static_cast<int>(n));
}
#endif

// The execution a sanitizer's report ended, the bad access's stack being
// `pcs` (innermost first).
Execution Capture(const Position& at, void* const* pcs, int n) {
  const Program& p = *g_input;
  RunResult r;
  r.status = sched::RunStatus::kAbandoned;
  const sched::Scheduler& s = LastScheduler();
  r.steps = at.step;
  r.trace_hash = s.trace().hash();
  Execution e = CaptureLastRun(p, r, g_variant);
  Finding& f = e.finding;
  f.variant = e.variant;
  f.step = at.step;
  const int t = at.task;
  f.task = t >= 0 && t < s.num_tasks() ? s.task(t).name : "";
  f.vcpu = at.vcpu;
  f.depth = at.depth;
  if (t >= 0 && t < s.num_tasks()) {
    const int op = s.task(t).op[f.depth];
    if (op >= 0 && static_cast<size_t>(op) < e.op_names.size()) f.op = e.op_names[op];
  }
#if defined(RF_ASAN)
  f.source = "asan";
  std::string kind = "deadly-signal";
  if (__asan_report_present()) {
    kind = __asan_get_report_description();
    void* addr = __asan_get_report_address();
    f.detail = absl::StrCat("AddressSanitizer: ", kind, " on address ", absl::Hex(reinterpret_cast<uintptr_t>(addr)),
                            __asan_get_report_access_type() ? " (write of " : " (read of ",
                            __asan_get_report_access_size(), " bytes)");
    char region[64] = "";
    void* region_addr = nullptr;
    size_t region_size = 0;
    const char* what = __asan_locate_address(addr, region, sizeof region, &region_addr, &region_size);
    // The kernel's allocation and free sites are the allocator registry's
    // (ASan's free stack is where the registry released the memory, which
    // may be later than the kfree); ASan's stacks where it has no record.
    if (std::optional<FindingObject> reg = RegistryObjectAt(addr)) {
      f.object = std::move(reg);
    } else {
      FindingObject o;
      o.type = what != nullptr ? what : "";
      o.size = region_size;
      o.allocator = "malloc";
      o.alloc.function = SiteOf(false, addr);
      o.free.function = SiteOf(true, addr);
      o.freed = !o.free.function.empty();
      if (!o.alloc.function.empty() || o.freed) f.object = std::move(o);
    }
  } else {
    f.detail = "AddressSanitizer: a deadly signal (SEGV, a bus error or an abort) outside any oracle";
  }
  f.name = SanitizerFindingName("asan", kind);
#else
  f.source = "tsan";
  f.name = SanitizerFindingName("tsan", "data race");
  f.detail = absl::StrCat("ThreadSanitizer: ", g_tsan.description, ", ", g_tsan.write ? "write of " : "read of ",
                          g_tsan.size, " bytes at ", absl::Hex(reinterpret_cast<uintptr_t>(g_tsan.addr)));
  if (std::optional<FindingObject> reg = RegistryObjectAt(g_tsan.addr)) f.object = std::move(reg);
#endif
  f.function = FirstProjectFrame(pcs, n);
  f.where = f.function.empty() ? "" : "in " + f.function;
  return e;
}

#if defined(RF_ASAN)
// ASan's death callback: the report is printed and nothing of ASan's is
// held, so the execution can be captured here.
void OnDeath() {
  if (g_input == nullptr) return;
  void* pcs[64];
  const int n = backtrace(pcs, 64);
  WriteJson(Capture(Now(), pcs, n));
}
#endif
#endif

}  // namespace

std::string FirstProjectFrame(void* const* pcs, int n) {
#if defined(RF_ASAN) || defined(RF_TSAN)
  std::string engine, any;
  for (int i = 0; i < n; ++i) {
    const std::string fn = Symbolize(pcs[i], "%f");
    const std::string file = Symbolize(pcs[i], "%s");
    if (fn.empty() || fn == "<null>" || absl::StartsWith(fn, "__") || absl::StrContains(fn, "sanitizer")) continue;
    // This file's own frames (the death callback asked for the stack) and
    // the system's (libc, the C++ library) are never where it happened.
    if (absl::StrContains(file, "/fuzz/sanitizer_report.cc") || absl::StartsWith(file, "/usr/") ||
        absl::StartsWith(file, "/lib")) {
      continue;
    }
    // The code under test: the model's storage code, a kernel tree's files
    // (extracted under the build's trees/), the shim's kernel-named inlines.
    if (absl::StrContains(file, "/engine/storage/") || absl::StrContains(file, "/trees/") ||
        absl::StrContains(file, "/kernel/bpf/")) {
      return fn;
    }
    if (engine.empty() && absl::StrContains(file, "/engine/") && !absl::StrContains(file, "/engine/sched/") &&
        !absl::StrContains(file, "/engine/report/")) {
      engine = fn;
    }
    if (any.empty() && absl::StrContains(file, "/")) any = fn;
  }
  return !engine.empty() ? engine : any;
#else
  (void)pcs;
  (void)n;
  return "";
#endif
}

std::string SanitizerDeathName() {
#if defined(RF_ASAN)
  return SanitizerFindingName("asan", __asan_report_present() ? __asan_get_report_description() : "deadly-signal");
#elif defined(RF_TSAN)
  return SanitizerFindingName("tsan", "data race");
#else
  return "crash";
#endif
}

void SetReportInput(const Program* p, storage::Variant v) {
  g_input = p;
  g_variant = v;
#if defined(RF_TSAN)
  if (p != nullptr) g_tsan = TsanReport{};
#endif
#if defined(RF_ASAN)
  static bool installed = false;
  if (!installed && OutPath() != nullptr) {
    // After libFuzzer's own (set when its driver starts): replaces it, which
    // only matters to a fuzzing run, and fuzzing runs leave the variable unset.
    __sanitizer_set_death_callback(&OnDeath);
    installed = true;
  }
#endif
}

bool SanitizerReportedDuringRun() {
#if defined(RF_TSAN)
  return g_tsan.seen;
#else
  return false;
#endif
}

bool WriteSanitizerFindingAfterRun() {
#if defined(RF_TSAN)
  if (!g_tsan.seen || g_input == nullptr || OutPath() == nullptr) return false;
  WriteJson(Capture(g_tsan.at, g_tsan.pcs, g_tsan.n));
  return true;
#else
  return false;
#endif
}

void WriteOracleFinding(const Program& p, const RunResult& r, storage::Variant v) {
  if (OutPath() == nullptr) return;
  WriteJson(CaptureLastRun(p, r, v));
}

}  // namespace reclaimfuzz::fuzz

#if defined(RF_TSAN)
// TSan's report hook (a weak default in the runtime), called for every
// report before TSan prints it and, with halt_on_error=1, dies.
extern "C" RF_NOT_TSAN void __tsan_on_report(void* report) { reclaimfuzz::fuzz::OnTsanReport(report); }
#endif
