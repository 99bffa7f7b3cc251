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
std::string Symbolize(void* pc, const char* fmt) {
  char buf[512];
  buf[0] = '\0';
  // The symbolizer wants the address of the call instruction, not of the
  // return: one byte back lands inside it.
  __sanitizer_symbolize_pc(static_cast<char*>(pc) - 1, fmt, buf, sizeof buf);
  return buf;
}

// ASan's stack of an allocation or a free of `addr`, innermost first.
std::string SiteOf(bool free, void* addr) {
#if defined(RF_ASAN)
  void* trace[64];
  int tid = 0;
  const size_t n = free ? __asan_get_free_stack(addr, trace, 64, &tid) : __asan_get_alloc_stack(addr, trace, 64, &tid);
  return FirstProjectFrame(trace, static_cast<int>(n));
#else
  (void)free;
  (void)addr;
  return "";
#endif
}

std::optional<Execution> Capture() {
  if (g_input == nullptr) return std::nullopt;
  const Program& p = *g_input;
  RunResult r;
  r.status = sched::RunStatus::kAbandoned;
  const sched::Scheduler& s = LastScheduler();
  r.steps = s.step();
  r.trace_hash = s.trace().hash();
  Execution e = CaptureLastRun(p, r, g_variant);
  Finding& f = e.finding;
  f.variant = e.variant;
  f.step = s.step();
  const int t = s.current_task();
  f.task = t >= 0 && t < s.num_tasks() ? s.task(t).name : "";
  f.vcpu = s.current_vcpu();
  f.depth = s.current_depth();
  if (t >= 0 && t < s.num_tasks()) {
    const int op = s.task(t).op[f.depth];
    if (op >= 0 && static_cast<size_t>(op) < e.op_names.size()) f.op = e.op_names[op];
  }
  void* pcs[64];
  const int n = backtrace(pcs, 64);
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
  f.detail = "ThreadSanitizer: a report (data race) ended the run";
#endif
  f.function = FirstProjectFrame(pcs, n);
  f.where = f.function.empty() ? "" : "in " + f.function;
  return e;
}

void OnDeath() {
  if (std::optional<Execution> e = Capture()) WriteJson(*e);
}
#endif

}  // namespace

std::string FirstProjectFrame(void* const* pcs, int n) {
#if defined(RF_ASAN) || defined(RF_TSAN)
  std::string engine, any;
  for (int i = 0; i < n; ++i) {
    const std::string fn = Symbolize(pcs[i], "%f");
    const std::string file = Symbolize(pcs[i], "%s");
    if (fn.empty() || fn == "<null>" || absl::StartsWith(fn, "__") || absl::StrContains(fn, "sanitizer")) continue;
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
#if defined(RF_ASAN) || defined(RF_TSAN)
  static bool installed = false;
  if (!installed && OutPath() != nullptr) {
    // After libFuzzer's own (set when its driver starts): replaces it, which
    // only matters to a fuzzing run, and fuzzing runs leave the variable unset.
    __sanitizer_set_death_callback(&OnDeath);
    installed = true;
  }
#endif
}

void WriteOracleFinding(const Program& p, const RunResult& r, storage::Variant v) {
  if (OutPath() == nullptr) return;
  WriteJson(CaptureLastRun(p, r, v));
}

}  // namespace reclaimfuzz::fuzz
