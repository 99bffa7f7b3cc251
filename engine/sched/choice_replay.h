// SPDX-License-Identifier: MIT
// Replays a recorded schedule: the list of decisions that differed from
// DefaultChoice(), each by step and by identity of the option (task id or
// interrupt id), not by index. With the same build and the same program the
// run is repeated exactly; a decision whose option is not legal at its step
// (the program changed) falls back to the default and is counted.
#ifndef RECLAIMFUZZ_ENGINE_SCHED_CHOICE_REPLAY_H_
#define RECLAIMFUZZ_ENGINE_SCHED_CHOICE_REPLAY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/sched/choice.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::sched {

class ReplayChoice : public ChoiceSource {
 public:
  explicit ReplayChoice(std::vector<Decision> decisions) : decisions_(std::move(decisions)) {}

  void Begin(const ExecutionShape&) override {
    next_ = 0;
    mismatches_ = 0;
  }
  bool Consult(const PointHeader& h) override { return next_ < decisions_.size() && decisions_[next_].step <= h.step; }
  size_t Choose(const PointView& view) override;
  std::string Describe() const override;

  int mismatches() const { return mismatches_; }

  // Text form, one token a decision: "s120:run3@1" (task 3 on vCPU 1),
  // "s7:run9" (a housekeeping thread), "s47:irq0", "s9:cont".
  static std::string Format(const std::vector<Decision>& decisions);
  static absl::StatusOr<std::vector<Decision>> Parse(absl::string_view text);

 private:
  std::vector<Decision> decisions_;
  size_t next_ = 0;
  int mismatches_ = 0;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_CHOICE_REPLAY_H_
