// SPDX-License-Identifier: MIT
// Coverage feedback beyond edges (docs/design.md §5): libFuzzer extra counters for
// schedule features, so the fuzzer keeps inputs that reach new
// interleavings, not only new code.
//
// FeatureChoice wraps the choice source of a run and, for every decision
// that is not "continue", bumps the counter of (preemption-point label,
// what was decided: a switch, a migration, an interrupt of which kind).
// The counters live in the __libfuzzer_extra_counters section, which
// libFuzzer reads as features; elsewhere they are plain memory.
#ifndef RECLAIMFUZZ_FUZZ_FEATURES_H_
#define RECLAIMFUZZ_FUZZ_FEATURES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/sched/choice.h"

namespace reclaimfuzz::fuzz {

inline constexpr size_t kNumFeatureCounters = 1 << 12;

// The counters (for tests): how many features were hit since the last clear.
size_t FeaturesHit();
void ClearFeatures();

class FeatureChoice : public sched::ChoiceSource {
 public:
  explicit FeatureChoice(sched::ChoiceSource* inner) : inner_(inner) {}
  void Begin(const sched::ExecutionShape& shape) override { inner_->Begin(shape); }
  bool Consult(const sched::PointHeader& h) override { return inner_->Consult(h); }
  size_t Choose(const sched::PointView& view) override;
  std::string Describe() const override { return inner_->Describe(); }

 private:
  sched::ChoiceSource* inner_;
};

}  // namespace reclaimfuzz::fuzz

#endif  // RECLAIMFUZZ_FUZZ_FEATURES_H_
