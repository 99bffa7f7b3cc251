// SPDX-License-Identifier: MIT
// PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
// each task gets a random distinct priority; the highest-priority runnable
// task always runs; at depth-1 random steps the running task's priority drops
// below all others. Interrupt programs are delivered each at one random step.
// A bug of depth d is found with probability at least 1/(n * k^(d-1)).
//
// k (the expected length of a run, in steps) is learned: it starts at
// `expected_steps` and follows the longest run seen so far.
#ifndef RECLAIMFUZZ_ENGINE_SCHED_CHOICE_PCT_H_
#define RECLAIMFUZZ_ENGINE_SCHED_CHOICE_PCT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/sched/choice.h"
#include "engine/sched/prng.h"

namespace reclaimfuzz::sched {

class PctChoice : public ChoiceSource {
 public:
  PctChoice(uint64_t seed, int depth, uint64_t expected_steps = 256)
      : seed_(seed), depth_(depth < 1 ? 1 : depth), k_(expected_steps), rng_(seed) {}

  void Begin(const ExecutionShape& shape) override;
  bool Consult(const PointHeader&) override { return true; }
  size_t Choose(const PointView& view) override;
  std::string Describe() const override;

 private:
  uint64_t seed_;
  int depth_;
  uint64_t k_;
  uint64_t max_step_seen_ = 0;
  SplitMix64 rng_;
  std::vector<int64_t> priority_;        // by task id
  std::vector<uint64_t> change_points_;  // sorted steps
  size_t next_change_ = 0;
  int64_t low_ = 0;                 // next priority below all others
  std::vector<uint64_t> irq_step_;  // by interrupt id
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_CHOICE_PCT_H_
