// SPDX-License-Identifier: MIT
#include "engine/sched/choice.h"

namespace reclaimfuzz::sched {

const char* PointKindName(PointKind kind) {
  switch (kind) {
    case PointKind::kAccess:
      return "access";
    case PointKind::kAtomic:
      return "atomic";
    case PointKind::kLock:
      return "lock";
    case PointKind::kSpin:
      return "spin";
    case PointKind::kPick:
      return "pick";
    case PointKind::kIrq:
      return "irq";
    case PointKind::kResched:
      return "resched";
  }
  return "?";
}

size_t DefaultChoice(const PointView& view) {
  const auto& opts = view.options;
  const PointKind kind = view.header.kind;
  if (kind != PointKind::kSpin && kind != PointKind::kPick && !opts.empty() && opts[0].kind == Option::kContinue) {
    return 0;
  }
  // Round-robin: the first task after the current one, cyclically.
  size_t first_run = opts.size();
  for (size_t i = 0; i < opts.size(); ++i) {
    if (opts[i].kind != Option::kRun) continue;
    if (first_run == opts.size()) first_run = i;
    if (opts[i].task > view.header.task) return i;
  }
  return first_run < opts.size() ? first_run : 0;
}

}  // namespace reclaimfuzz::sched
