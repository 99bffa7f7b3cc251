// SPDX-License-Identifier: MIT
#include "fuzz/features.h"

#include <cstring>

namespace reclaimfuzz::fuzz {
namespace {

// libFuzzer treats every byte of this section as a feature counter.
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t g_counters[kNumFeatureCounters];

inline size_t Slot(const char* label, unsigned what, bool in_irq) {
  // Labels are string literals of this binary: their offset from a symbol
  // of the same binary is the same in every process, where the address
  // moves with ASLR. So which labels share a counter, and with it an
  // input's features, does not change from one process to the next (a
  // corpus merge in one process keeps what another process measured).
  uint64_t h = reinterpret_cast<uintptr_t>(label) - reinterpret_cast<uintptr_t>(&g_counters[0]);
  h ^= (static_cast<uint64_t>(what) << 1) | (in_irq ? 1 : 0);
  h *= 0x9e3779b97f4a7c15ull;
  return static_cast<size_t>(h >> 52) % kNumFeatureCounters;
}

}  // namespace

size_t FeaturesHit() {
  size_t n = 0;
  for (uint8_t c : g_counters) n += c != 0;
  return n;
}

void ClearFeatures() { memset(g_counters, 0, sizeof(g_counters)); }

size_t FeatureChoice::Choose(const sched::PointView& view) {
  const size_t idx = inner_->Choose(view);
  if (idx < view.options.size()) {
    const sched::Option& o = view.options[idx];
    if (o.kind != sched::Option::kContinue) {
      unsigned what = o.kind == sched::Option::kInterrupt ? 2u : 1u;
      if (o.kind == sched::Option::kRun && view.header.vcpu >= 0 && o.vcpu >= 0 && o.vcpu == view.header.vcpu) {
        what = 3;  // preemption on the same vCPU
      }
      uint8_t& c = g_counters[Slot(view.header.label, what, view.header.in_interrupt)];
      if (c != 0xff) ++c;
    }
  }
  return idx;
}

}  // namespace reclaimfuzz::fuzz
