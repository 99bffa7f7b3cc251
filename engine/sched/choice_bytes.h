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
//
// "continue" at a spin point is a stall: every other vCPU, the lock holder's
// among them, makes no progress while the waiter keeps spinning, for up to
// kStallSpinPoints spin points or until the wait ends (the waiter's next
// point is not a spin) or the next event fires. One event thus reaches an
// rqspinlock timeout, which takes that many spins, as a hypervisor that
// preempts the holder's vCPU, or an NMI storm on it, does in the kernel
// (docs/findings/destroy-timeout-leak.md). The mutator places such events
// at the spin-waits of a recent execution (fuzz/mutator.h).
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
  static constexpr size_t kMaxWaitStarts = 8;

  BytesChoice() = default;
  explicit BytesChoice(absl::Span<const uint8_t> bytes) { SetBytes(bytes); }
  explicit BytesChoice(std::vector<ScheduleEvent> events) { SetEvents(std::move(events)); }

  void SetBytes(absl::Span<const uint8_t> bytes);
  void SetEvents(std::vector<ScheduleEvent> events);
  const std::vector<ScheduleEvent>& events() const { return events_; }
  static std::vector<uint8_t> Encode(const std::vector<ScheduleEvent>& events);

  void Begin(const ExecutionShape&) override {
    next_ = 0;
    stall_left_ = 0;
    wait_task_ = -1;
    num_wait_starts_ = 0;
  }
  bool Consult(const PointHeader& h) override {
    if (h.kind != PointKind::kSpin) {
      stall_left_ = 0;  // a stalled wait ended
      wait_task_ = -1;
    }
    return next_ < events_.size() && events_[next_].step <= h.step;
  }
  size_t Choose(const PointView& view) override;
  std::string Describe() const override;

  // The steps at which the current (or last) execution's first
  // kMaxWaitStarts spin-waits began, at their first spin point: where a
  // "continue" is a stall, for the mutator to place one.
  absl::Span<const uint64_t> wait_starts() const { return absl::MakeConstSpan(wait_starts_, num_wait_starts_); }

 private:
  std::vector<ScheduleEvent> events_;
  size_t next_ = 0;
  int stall_task_ = -1;  // the spinner of a stall, while stall_left_ > 0
  int stall_left_ = 0;   // spin points the stall still lasts
  int wait_task_ = -1;   // the task whose spin was the last point seen, if any
  uint64_t wait_starts_[kMaxWaitStarts] = {};
  size_t num_wait_starts_ = 0;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_CHOICE_BYTES_H_
