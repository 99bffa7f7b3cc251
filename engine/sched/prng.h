// SPDX-License-Identifier: MIT
// SplitMix64: a tiny, fast, seedable generator. Every random decision of a
// run comes from one of these, seeded from the run's seed, never from a clock.
#ifndef RECLAIMFUZZ_ENGINE_SCHED_PRNG_H_
#define RECLAIMFUZZ_ENGINE_SCHED_PRNG_H_

#include <cstdint>

namespace reclaimfuzz::sched {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<__uint128_t>(Next()) * n) >> 64); }
  // True with probability 1/n.
  bool OneIn(uint64_t n) { return n <= 1 || Below(n) == 0; }

 private:
  uint64_t state_;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_PRNG_H_
