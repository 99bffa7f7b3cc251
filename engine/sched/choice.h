// SPDX-License-Identifier: MIT
// Choice sources: the one place where a run's nondeterminism is decided.
//
// At every preemption point the scheduler may consult its ChoiceSource. The
// source sees the legal options (continue, run another task, deliver an
// interrupt on the current vCPU) and picks one. Everything a run does follows
// from the sequence of picks, so a source that replays the same picks replays
// the run exactly.
//
// Strategies live one per file behind this interface (shuttle's layout):
//   choice_bytes.h   fuzz input: a few schedule events decoded from bytes
//   choice_random.h  seeded PRNG
//   choice_pct.h     PCT (probabilistic concurrency testing) with a depth
//   choice_replay.h  a recorded schedule
//   choice_scripted.h  a hand-written schedule for tests: rules on labels
#ifndef RECLAIMFUZZ_ENGINE_SCHED_CHOICE_H_
#define RECLAIMFUZZ_ENGINE_SCHED_CHOICE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/types/span.h"

namespace reclaimfuzz::sched {

// What kind of code reached the preemption point.
enum class PointKind : uint8_t {
  kAccess,   // a READ_ONCE/WRITE_ONCE or list pointer write
  kAtomic,   // an atomic read-modify-write
  kLock,     // a lock acquire or release
  kSpin,     // a spin-wait iteration: the caller cannot progress alone
  kPick,     // the current task blocked or ended: another must be picked
  kIrq,      // interrupts just became deliverable (local_irq_restore)
  kResched,  // cond_resched(), might_sleep(), an allocation that may sleep:
             // same-CPU preemption is allowed here under every preemption model
};

const char* PointKindName(PointKind kind);

struct Option {
  enum Kind : uint8_t { kContinue, kRun, kInterrupt, kFail };  // kFail: at a FailPoint()
  Kind kind = kContinue;
  int16_t task = -1;  // kRun: the task to run next
  int16_t irq = -1;   // kInterrupt: the interrupt program to deliver
  int8_t vcpu = -1;   // kRun: where it runs (its own vCPU, or an idle one it
                      // migrates to); -1 for housekeeping threads

  bool operator==(const Option& o) const { return kind == o.kind && task == o.task && irq == o.irq && vcpu == o.vcpu; }
};

// What a source learns cheaply at every point, before options are built.
struct PointHeader {
  uint64_t step = 0;
  int task = -1;  // the task at the point; -1 at a kPick point
  int vcpu = -1;  // its vCPU (-1 for housekeeping threads)
  PointKind kind = PointKind::kAccess;
  bool in_interrupt = false;
  const char* label = "";  // static string naming the access (for features)
};

struct PointView {
  PointHeader header;
  // The legal options. At a non-kPick point options[0] is kContinue.
  absl::Span<const Option> options;
};

// The choice every source falls back to when it has nothing to say: keep
// running the current task, except at spin and pick points, where the next
// task after the current one (by id, cyclically) runs.
size_t DefaultChoice(const PointView& view);

// How many spin points a stalled vCPU lasts (BytesChoice's stall): as many
// as an rqspinlock waiter spins before it times out (engine/kernel/
// rqspinlock.h), the kernel's 0.25 s.
inline constexpr int kStallSpinPoints = 64;

// Sizes the scheduler announces at the start of each execution.
struct ExecutionShape {
  int num_tasks = 0;       // including the machine's own threads
  int num_interrupts = 0;  // interrupt programs registered
  uint64_t step_budget = 0;
};

class ChoiceSource {
 public:
  virtual ~ChoiceSource() = default;

  // Called once at the start of each execution.
  virtual void Begin(const ExecutionShape& shape) { (void)shape; }

  // Fast path: return false to take DefaultChoice without building options.
  // Spin and pick points are always passed to Choose().
  virtual bool Consult(const PointHeader& header) = 0;

  // Returns an index into view.options.
  virtual size_t Choose(const PointView& view) = 0;

  // One line naming the strategy and its parameters, for reports.
  virtual std::string Describe() const = 0;
};

}  // namespace reclaimfuzz::sched

#endif  // RECLAIMFUZZ_ENGINE_SCHED_CHOICE_H_
