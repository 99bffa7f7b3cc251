// SPDX-License-Identifier: MIT
// The trace recorder: what happened, in order, and a stable hash of it.
//
// Preallocated: Add() never allocates, so it is safe inside the signal
// handlers that run interrupt programs. Events are kept in a ring of fixed
// capacity (the newest win, which is what a report needs); the hash covers
// every event ever added, so two runs with equal hashes took the same path.
//
// The hash never depends on a pointer value: labels are hashed by content
// (cached per label pointer, which is stable within one process).
#ifndef RECLAIMFUZZ_ENGINE_SCHED_TRACE_H_
#define RECLAIMFUZZ_ENGINE_SCHED_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"

namespace reclaimfuzz::sched {

enum class EventKind : uint8_t {
  kPoint,       // a preemption point passed
  kRun,         // the scheduler gave the (v)CPU to a task
  kPreempt,     // a task was preempted on its vCPU
  kBlock,       // a task blocked (label: what it waits for)
  kWake,        // a blocked task became runnable
  kDone,        // a task's body returned
  kIrqPending,  // a hardirq raised while IRQs were off: held until restore
  kIrqEnter,    // an interrupt handler started (via the signal)
  kIrqExit,
  kNote,     // a model event worth showing (alloc, free, unlink, GP end)
  kFinding,  // an oracle fired
};

const char* EventKindName(EventKind kind);

struct Event {
  uint64_t step;
  int64_t arg;
  const char* label;  // static string
  // The function whose code passed the point or made the note (a static
  // string: __func__ of the call site), or nullptr. Not hashed: it follows
  // from the label's place in the code.
  const char* func;
  int16_t task;
  int16_t op;     // the BPF operation the context was running (an index
                  // the front end assigned, Scheduler::SetOp), -1 none
  int8_t vcpu;    // -1: housekeeping (no vCPU)
  uint8_t depth;  // 0 task, 1 hardirq, 2 NMI (nesting on the vCPU)
  EventKind kind;
};

class Trace {
 public:
  static constexpr size_t kDefaultCapacity = 1 << 14;

  // Preallocates (`capacity` rounded up to a power of two; 0: hash
  // only); call outside signal handlers. With `context` false the
  // events keep no function and no operation (Event::func nullptr, op -1):
  // the ring's slots stay small, for fuzzing runs whose trace nobody reads
  // as a timeline (fuzz/storage_fuzz.cc).
  void Reset(size_t capacity = kDefaultCapacity, bool context = true);
  bool context() const { return context_; }

  // Signal-safe, never allocates.
  void Add(const Event& e);

  uint64_t hash() const { return hash_; }
  uint64_t total() const { return total_; }
  // The retained events, oldest first (at most capacity).
  std::vector<Event> Events() const;

  struct TimelineOptions {
    int num_vcpus = 1;
    absl::Span<const std::string> task_names;
    size_t max_rows = 80;     // newest rows kept
    bool show_points = true;  // runs of kPoint from one task are folded
    // Texts of the BPF operations (Event::op indexes it): a row shows the
    // operation a context starts. Empty: operations are not shown.
    absl::Span<const std::string> op_names;
    // The short form: one row per run of one function (not per point
    // label), only the events that tell the story (operations, model
    // notes, interrupts, the finding, and the points just before a note or
    // the finding); scheduling bookkeeping left out.
    bool short_form = false;
    // The short form keeps every note about this model object (its
    // allocation, unlink and free); -1 none.
    int64_t focus_object = -1;
    // The finding's name: its note is the bad access (kept, and the
    // context whose last points the short form keeps); nullptr none.
    const char* finding = nullptr;
  };
  // Columns per vCPU plus one for housekeeping threads; interrupts indented
  // under the task they interrupted.
  std::string Timeline(const TimelineOptions& options) const;

 private:
  uint64_t LabelHash(const char* label);      // cached; the miss out of line:
  uint64_t LabelHashMiss(const char* label);  // hashes, fills the cache

  // An event without its function and operation (32 bytes, not 40):
  // those are kept beside it, in funcs_ and ops_, when context_ is on.
  struct Slot {
    uint64_t step;
    int64_t arg;
    const char* label;
    int16_t task;
    int8_t vcpu;
    uint8_t depth;
    EventKind kind;
  };
  std::vector<Slot> ring_;
  std::vector<const char*> funcs_;
  std::vector<int16_t> ops_;
  bool context_ = true;
  size_t head_ = 0;  // next slot
  size_t mask_ = 0;  // ring_.size() - 1 (a power of two); 0 when empty
  uint64_t total_ = 0;
  uint64_t hash_ = 0;
  // label pointer -> content hash; open addressing, fixed size.
  static constexpr size_t kLabelCache = 1024;
  const char* label_keys_[kLabelCache] = {};
  uint64_t label_vals_[kLabelCache] = {};
};

// The timeline of `events` (oldest first), as Trace::Timeline() formats
// its own; for events copied out of an execution (labels and functions
// must outlive the call).
std::string FormatTimeline(absl::Span<const Event> events, const Trace::TimelineOptions& options);

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_TRACE_H_
