// SPDX-License-Identifier: MIT
// The fuzz-input choice source: a schedule is a few events, not a byte per
// step (docs/design.md §5). Each event is 3 bytes:
//
//   u16 little-endian  steps after the previous event's step (or after 0)
//   u8                 which legal option to take, modulo their number
//                      (0 is "continue" at ordinary points)
//
// An event fires at the first consulted point at or after its step. Between
// events, and after the bytes run out, DefaultChoice() decides. A mutation of
// one event changes one decision, leaving the others in place.
#ifndef RECLAIMFUZZ_ENGINE_SCHED_CHOICE_BYTES_H_
#define RECLAIMFUZZ_ENGINE_SCHED_CHOICE_BYTES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "engine/sched/choice.h"

namespace reclaimfuzz::sched {

struct ScheduleEvent {
  uint64_t step;   // absolute step at which it fires
  uint8_t action;  // option index modulo the number of options
};

class BytesChoice : public ChoiceSource {
 public:
  static constexpr size_t kEventBytes = 3;

  BytesChoice() = default;
  explicit BytesChoice(absl::Span<const uint8_t> bytes) { SetBytes(bytes); }
  explicit BytesChoice(std::vector<ScheduleEvent> events) { SetEvents(std::move(events)); }

  void SetBytes(absl::Span<const uint8_t> bytes);
  void SetEvents(std::vector<ScheduleEvent> events);
  const std::vector<ScheduleEvent>& events() const { return events_; }
  static std::vector<uint8_t> Encode(const std::vector<ScheduleEvent>& events);

  void Begin(const ExecutionShape&) override { next_ = 0; }
  bool Consult(const PointHeader& h) override { return next_ < events_.size() && events_[next_].step <= h.step; }
  size_t Choose(const PointView& view) override;
  std::string Describe() const override;

 private:
  std::vector<ScheduleEvent> events_;
  size_t next_ = 0;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_CHOICE_BYTES_H_
