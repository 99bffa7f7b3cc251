// SPDX-License-Identifier: MIT
// Seeded random choice source: at each point, with probability 1/switch_one_in
// it picks uniformly among all legal options (including delivering an
// interrupt); at spin and pick points it always picks uniformly.
#ifndef RECLAIMFUZZ_ENGINE_SCHED_CHOICE_RANDOM_H_
#define RECLAIMFUZZ_ENGINE_SCHED_CHOICE_RANDOM_H_

#include <cstdint>
#include <string>

#include "engine/sched/choice.h"
#include "engine/sched/prng.h"

namespace reclaimfuzz::sched {

class RandomChoice : public ChoiceSource {
 public:
  explicit RandomChoice(uint64_t seed, uint64_t switch_one_in = 8)
      : seed_(seed), switch_one_in_(switch_one_in == 0 ? 1 : switch_one_in), rng_(seed) {}

  // Restarts the stream (same seed: same decisions).
  void Reseed(uint64_t seed) {
    seed_ = seed;
    rng_ = SplitMix64(seed);
  }

  bool Consult(const PointHeader&) override { return rng_.OneIn(switch_one_in_); }
  size_t Choose(const PointView& view) override { return rng_.Below(view.options.size()); }
  std::string Describe() const override;

 private:
  uint64_t seed_;
  uint64_t switch_one_in_;
  SplitMix64 rng_;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_CHOICE_RANDOM_H_
