// SPDX-License-Identifier: MIT
// The program IR: what one fuzz input asks the engine to do.
//
// A program is a configuration (vCPUs, settings), declared maps and owners,
// tasks (each a sequence of steps: a BPF program invocation of some kind
// with its helper calls, or a lifecycle event), interrupt programs (hardirq
// or NMI, each one tracing program to deliver on a vCPU), and a schedule (a
// few events, sched/choice_bytes.h). The variant is not part of a program:
// the fuzz target, or the command line, chooses it.
//
// Two encodings, both total and round-tripping (syzkaller's prog/ layout):
//   encoding_binary.cc  what fuzzers mutate (format documented there);
//   encoding_text.cc    what people read and write (format documented there).
// validate.cc clamps a program to the engine's limits; both decoders produce
// programs that already satisfy it.
#ifndef RECLAIMFUZZ_FUZZ_PROGRAM_H_
#define RECLAIMFUZZ_FUZZ_PROGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/sched/choice_bytes.h"

namespace reclaimfuzz::fuzz {

inline constexpr uint8_t kFormatVersion = 1;

// Limits of a program (named so that errors can cite them).
inline constexpr int kMaxMaps = 4;
inline constexpr int kMaxOwners = 6;
inline constexpr int kMaxTasks = 6;
inline constexpr int kMaxIrqs = 8;
inline constexpr int kMaxStepsPerTask = 16;
inline constexpr int kMaxOpsPerProg = 16;
inline constexpr int kMaxSlots = 8;    // values a program holds at once
inline constexpr int kValueWords = 4;  // u64 words in a map value
// 128: room for schedules that spell out an rqspinlock timeout spin by spin
// (64 events; one "continue" at the first spin stalls as long,
// engine/sched/choice_bytes.h). The binary form's last byte counts events
// modulo kMaxScheduleEvents + 1.
inline constexpr int kMaxScheduleEvents = 128;

enum class Owner : uint8_t { kTask, kSk, kInode, kCgroup };
inline constexpr int kNumOwnerKinds = 4;
const char* OwnerName(Owner o);

struct MapDecl {
  Owner owner = Owner::kTask;
  bool spin_lock = false;  // a bpf_spin_lock in word 0 (BPF_F_LOCK)
  bool kptr = false;       // a kptr in word 1
};

struct OwnerDecl {
  Owner kind = Owner::kTask;
};

// Program kinds (engine/storage/program.h).
enum class ProgKind : uint8_t { kTracing, kSleepable, kSyscall, kRqLocked };
inline constexpr int kNumProgKinds = 4;
const char* ProgKindName(ProgKind k);

enum class OpKind : uint8_t {
  kGet,        // <owner>_storage_get(map, owner, value, F_CREATE?) -> slot
  kDelete,     // <owner>_storage_delete(map, owner)
  kLookup,     // syscall lookup_elem(map, owner) -> slot
  kUpdate,     // syscall update_elem(map, owner, value, flags)
  kSysDelete,  // syscall delete_elem(map, owner)
  kRead,       // read word of a held value
  kWrite,      // write word of a held value
  kKptrXchg,   // bpf_kptr_xchg a new object into a held value's kptr
  kSleep,      // sleep (a page fault): sleepable programs only
};
inline constexpr int kNumOpKinds = 9;
const char* OpKindName(OpKind k);

// Update flags (kUpdate) and get flags (kGet).
inline constexpr uint8_t kFlagAny = 0;
inline constexpr uint8_t kFlagNoexist = 1;
inline constexpr uint8_t kFlagExist = 2;
inline constexpr uint8_t kFlagLock = 4;    // BPF_F_LOCK
inline constexpr uint8_t kFlagCreate = 1;  // BPF_LOCAL_STORAGE_GET_F_CREATE

struct Op {
  OpKind kind = OpKind::kGet;
  uint8_t map = 0;    // index into Program::maps
  uint8_t owner = 0;  // index into Program::owners
  uint8_t slot = 0;   // kRead/kWrite/kKptrXchg: which held value
  uint8_t word = 0;   // kRead/kWrite: which u64 of the value
  uint8_t flags = 0;  // kGet: kFlagCreate; kUpdate: kFlagAny/Noexist/Exist | kFlagLock
  uint8_t value = 0;  // kGet/kUpdate/kWrite: the value written (every word)
  bool operator==(const Op&) const = default;
};

// A program's or an interrupt's ops, inline up to the limit Normalize()
// keeps: decoding, mutating and running a program allocate nothing for them.
using OpVector = absl::InlinedVector<Op, kMaxOpsPerProg>;

enum class StepKind : uint8_t { kProg, kReleaseOwner, kReleaseMap };

struct Step {
  StepKind kind = StepKind::kProg;
  ProgKind prog = ProgKind::kTracing;  // kProg
  OpVector ops;                        // kProg
  uint8_t target = 0;                  // kReleaseOwner: owner; kReleaseMap: map
  bool operator==(const Step&) const = default;
};

struct TaskDecl {
  uint8_t vcpu = 0;
  bool migratable = false;
  std::vector<Step> steps;
  bool operator==(const TaskDecl&) const = default;
};

enum class IrqKind : uint8_t { kHardirq, kNmi };

struct IrqDecl {
  IrqKind kind = IrqKind::kNmi;
  uint8_t vcpu = 0;
  OpVector ops;  // one tracing program
  bool operator==(const IrqDecl&) const = default;
};

struct Program {
  uint8_t num_vcpus = 2;
  // (rcu_trace_implies_rcu_gp() is not a program setting: it is true in
  // every kernel modelled, engine/rcu's default; docs/design.md §5.)
  std::vector<MapDecl> maps;
  std::vector<OwnerDecl> owners;
  std::vector<TaskDecl> tasks;
  std::vector<IrqDecl> irqs;
  std::vector<sched::ScheduleEvent> schedule;
  bool operator==(const Program&) const;
};

// Clamps indices and sizes to the limits above and to the declared maps,
// owners and vCPUs; adds a task map and a task owner if none are declared.
// Idempotent. Both decoders call it, so decoded programs are always valid.
void Normalize(Program& p);

// ---- binary form (encoding_binary.cc) -------------------------------------
// Total: every byte string decodes to a valid program.
Program DecodeBinary(absl::Span<const uint8_t> bytes);
std::vector<uint8_t> EncodeBinary(const Program& p);
// EncodeBinary() of a program Normalize() has just returned, without the
// copy and second pass (the mutator's path, once per mutation).
std::vector<uint8_t> EncodeNormalized(const Program& p);

// ---- text form (encoding_text.cc) -----------------------------------------
// Errors name line and column: "line 7, column 12: unknown op 'gte'".
absl::StatusOr<Program> ParseText(absl::string_view text);
std::string FormatText(const Program& p);

// The text of every operation `p` runs, in the order the interpreter
// numbers them (Scheduler::SetOp, the op of each trace event): each task's
// steps in order (a program's ops one by one, a release as one), then each
// interrupt's ops. E.g. "get m1 o0 create -> r0", "release owner o0".
std::vector<std::string> OpNames(const Program& p);

// Either form, by content: text when the first non-blank byte is '#' or a
// lowercase letter and no byte is a control character (other than
// whitespace), binary otherwise.
absl::StatusOr<Program> DecodeAny(absl::Span<const uint8_t> bytes);

}  // namespace reclaimfuzz::fuzz

#endif  // RECLAIMFUZZ_FUZZ_PROGRAM_H_
