// SPDX-License-Identifier: MIT
#include "engine/sched/choice_pct.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reclaimfuzz::sched {

void PctChoice::Begin(const ExecutionShape& shape) {
  k_ = std::max<uint64_t>({k_, max_step_seen_, 16});
  max_step_seen_ = 0;
  const int n = shape.num_tasks;
  // Distinct priorities depth..depth+n-1 in random order (Fisher-Yates).
  priority_.resize(n);
  for (int i = 0; i < n; ++i) priority_[i] = depth_ + i;
  for (int i = n - 1; i > 0; --i) std::swap(priority_[i], priority_[rng_.Below(i + 1)]);
  change_points_.clear();
  for (int i = 0; i < depth_ - 1; ++i) change_points_.push_back(1 + rng_.Below(k_));
  std::sort(change_points_.begin(), change_points_.end());
  next_change_ = 0;
  low_ = depth_ - 1;
  irq_step_.resize(shape.num_interrupts);
  for (auto& s : irq_step_) s = 1 + rng_.Below(k_);
}

size_t PctChoice::Choose(const PointView& view) {
  const PointHeader& h = view.header;
  max_step_seen_ = std::max(max_step_seen_, h.step);
  while (next_change_ < change_points_.size() && change_points_[next_change_] <= h.step) {
    ++next_change_;
    if (h.task >= 0 && static_cast<size_t>(h.task) < priority_.size()) priority_[h.task] = low_--;
  }
  size_t best = 0;
  int64_t best_prio = INT64_MIN;
  for (size_t i = 0; i < view.options.size(); ++i) {
    const Option& o = view.options[i];
    if (o.kind == Option::kInterrupt) {
      if (static_cast<size_t>(o.irq) < irq_step_.size() && irq_step_[o.irq] <= h.step) return i;
      continue;
    }
    const int task = o.kind == Option::kContinue ? h.task : o.task;
    if (task < 0) continue;
    // Tasks spawned after Begin() (rare) get the lowest priority.
    const int64_t p = static_cast<size_t>(task) < priority_.size() ? priority_[task] : INT64_MIN + 1;
    // At a spin point the spinner cannot progress alone: prefer anyone else.
    const bool spinner = h.kind == PointKind::kSpin && o.kind == Option::kContinue;
    if (!spinner && p > best_prio) {
      best_prio = p;
      best = i;
    }
  }
  return best;
}

std::string PctChoice::Describe() const {
  return absl::StrCat("pct(seed=", seed_, ", depth=", depth_, ", k=", k_, ")");
}

}  // namespace reclaimfuzz::sched
