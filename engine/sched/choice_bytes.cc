// SPDX-License-Identifier: MIT
#include "engine/sched/choice_bytes.h"

#include "absl/strings/str_cat.h"

namespace reclaimfuzz::sched {

void BytesChoice::SetBytes(absl::Span<const uint8_t> bytes) {
  events_.clear();
  uint64_t step = 0;
  for (size_t i = 0; i + kEventBytes <= bytes.size(); i += kEventBytes) {
    step += static_cast<uint64_t>(bytes[i]) | (static_cast<uint64_t>(bytes[i + 1]) << 8);
    events_.push_back(ScheduleEvent{step, bytes[i + 2]});
  }
  next_ = 0;
}

void BytesChoice::SetEvents(std::vector<ScheduleEvent> events) {
  events_ = std::move(events);
  next_ = 0;
}

std::vector<uint8_t> BytesChoice::Encode(const std::vector<ScheduleEvent>& events) {
  std::vector<uint8_t> out;
  uint64_t prev = 0;
  for (const ScheduleEvent& e : events) {
    uint64_t delta = e.step - prev;
    // Gaps wider than a u16 become no-op hops (action 0 = continue).
    while (delta > 0xffff) {
      out.insert(out.end(), {0xff, 0xff, 0});
      delta -= 0xffff;
    }
    out.insert(out.end(), {static_cast<uint8_t>(delta & 0xff), static_cast<uint8_t>(delta >> 8), e.action});
    prev = e.step;
  }
  return out;
}

size_t BytesChoice::Choose(const PointView& view) {
  const PointHeader& h = view.header;
  if (h.kind == PointKind::kSpin) {
    if (h.task != wait_task_ && num_wait_starts_ < kMaxWaitStarts) wait_starts_[num_wait_starts_++] = h.step;
    wait_task_ = h.task;
  } else {
    wait_task_ = -1;
  }
  if (next_ < events_.size() && events_[next_].step <= h.step) {
    const size_t idx = events_[next_++].action % view.options.size();
    const bool stall = h.kind == PointKind::kSpin && view.options[idx].kind == Option::kContinue;
    stall_task_ = h.task;
    stall_left_ = stall ? kStallSpinPoints - 1 : 0;  // this point is the stall's first
    return idx;
  }
  if (stall_left_ > 0) {
    if (h.kind == PointKind::kSpin && h.task == stall_task_ && view.options[0].kind == Option::kContinue) {
      --stall_left_;
      return 0;
    }
    stall_left_ = 0;
  }
  return DefaultChoice(view);
}

std::string BytesChoice::Describe() const { return absl::StrCat("bytes(", events_.size(), " events)"); }

}  // namespace reclaimfuzz::sched
