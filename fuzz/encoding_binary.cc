// SPDX-License-Identifier: MIT
// The binary form: what libFuzzer and AFL++ mutate.
//
//   byte 0     format version (kFormatVersion = 1). Any other value decodes
//              to the empty program, so old corpora fail loudly in replay
//              rather than meaning something else.
//   byte 1     configuration: bits 0-1 number of vCPUs - 1; the other bits
//              are ignored (bit 2 once turned rcu_trace_implies_rcu_gp()
//              off, which no kernel modelled does: docs/design.md §5).
//   ...        the operations region: 4-byte records, from the front;
//   ...        the schedule region: E events of 3 bytes (choice_bytes.h),
//              just before the last byte;
//   last byte  E (modulo kMaxScheduleEvents + 1, clipped to what fits).
//
// Operations and schedule sit at opposite ends (as FuzzedDataProvider
// does), so a mutation of one leaves the other in place.
//
// Records (r0 r1 r2 r3); the kind is r0 % 8:
//   0 map      owner kind r1 % 4; r2 bit 0 spin_lock, bit 1 kptr
//   1 owner    kind r1 % 4
//   2 task     vCPU r1; r2 bit 0 migratable          (a new task)
//   3 irq      r1 bit 0: 0 hardirq, 1 NMI; vCPU r2    (a new interrupt program)
//   4 prog     kind r1 % 4                            (a new step of the current task)
//   5 release  r1 bit 0: 0 owner, 1 map; index r2     (a step of the current task)
//   6, 7 op    kind (r1 & 15) % 9, flags r1 >> 4;
//              r2 bits 0-1 map (or word), bits 2-4 owner (or slot); value r3
// An op goes to the current interrupt program if the last context record
// was an irq, else to the current step of the current task (a tracing
// program is opened, and a task on vCPU 0 created, when there is none).
// Counts past the limits of program.h are dropped by Normalize().
#include "fuzz/program.h"

namespace reclaimfuzz::fuzz {
namespace {

constexpr size_t kHeader = 2;
constexpr size_t kRecord = 4;
// Steps reserved for a decoded task: most have fewer (a step holds its ops
// inline, about 130 bytes).
constexpr size_t kStepsReserved = 4;

enum Record : uint8_t { kMap = 0, kOwner, kTask, kIrq, kProg, kRelease, kOp, kOp2 };

Op DecodeOp(uint8_t r1, uint8_t r2, uint8_t r3) {
  Op op;
  op.kind = static_cast<OpKind>((r1 & 15) % kNumOpKinds);
  op.flags = r1 >> 4;
  op.map = op.word = r2 & 3;
  op.owner = op.slot = (r2 >> 2) & 7;
  op.value = r3;
  return op;
}

void EncodeOp(const Op& op, std::vector<uint8_t>& out) {
  const bool slotted = op.kind == OpKind::kRead || op.kind == OpKind::kWrite || op.kind == OpKind::kKptrXchg;
  const uint8_t lo = slotted ? op.word : op.map;
  const uint8_t hi = slotted ? op.slot : op.owner;
  out.insert(out.end(), {kOp, static_cast<uint8_t>(static_cast<uint8_t>(op.kind) | (op.flags << 4)),
                         static_cast<uint8_t>((lo & 3) | ((hi & 7) << 2)), op.value});
}

}  // namespace

Program DecodeBinary(absl::Span<const uint8_t> bytes) {
  Program p;
  if (bytes.size() < kHeader || bytes[0] != kFormatVersion) {
    Normalize(p);
    return p;
  }
  p.num_vcpus = static_cast<uint8_t>((bytes[1] & 3) + 1);
  // One allocation each, not one per doubling (each costs ASan a stack).
  p.maps.reserve(kMaxMaps);
  p.owners.reserve(kMaxOwners);
  p.tasks.reserve(kMaxTasks);
  size_t end = bytes.size();
  // Schedule region, from the back.
  if (end > kHeader) {
    size_t events = bytes[end - 1] % (kMaxScheduleEvents + 1);
    --end;
    events = std::min(events, (end - kHeader) / sched::BytesChoice::kEventBytes);
    const size_t start = end - events * sched::BytesChoice::kEventBytes;
    sched::BytesChoice sched_bytes(bytes.subspan(start, end - start));
    p.schedule = sched_bytes.events();
    end = start;
  }
  // Operations region, from the front.
  bool in_irq = false;
  auto new_task = [&](TaskDecl t) {
    t.steps.reserve(kStepsReserved);
    p.tasks.push_back(std::move(t));
  };
  auto current_step = [&]() -> Step& {
    if (p.tasks.empty()) new_task(TaskDecl{});
    TaskDecl& t = p.tasks.back();
    if (t.steps.empty() || t.steps.back().kind != StepKind::kProg) t.steps.push_back(Step{});
    return t.steps.back();
  };
  for (size_t i = kHeader; i + kRecord <= end; i += kRecord) {
    const uint8_t* r = bytes.data() + i;  // Span's operator[] is a call in the asan build
    const uint8_t r1 = r[1], r2 = r[2], r3 = r[3];
    switch (static_cast<Record>(r[0] % 8)) {
      case kMap:
        p.maps.push_back(MapDecl{static_cast<Owner>(r1 % kNumOwnerKinds), (r2 & 1) != 0, (r2 & 2) != 0});
        break;
      case kOwner:
        p.owners.push_back(OwnerDecl{static_cast<Owner>(r1 % kNumOwnerKinds)});
        break;
      case kTask:
        new_task(TaskDecl{r1, (r2 & 1) != 0, {}});
        in_irq = false;
        break;
      case kIrq:
        p.irqs.push_back(IrqDecl{(r1 & 1) ? IrqKind::kNmi : IrqKind::kHardirq, r2, {}});
        in_irq = true;
        break;
      case kProg: {
        in_irq = false;
        if (p.tasks.empty()) new_task(TaskDecl{});
        Step s;
        s.prog = static_cast<ProgKind>(r1 % kNumProgKinds);
        p.tasks.back().steps.push_back(std::move(s));
        break;
      }
      case kRelease: {
        in_irq = false;
        if (p.tasks.empty()) new_task(TaskDecl{});
        Step s;
        s.kind = (r1 & 1) ? StepKind::kReleaseMap : StepKind::kReleaseOwner;
        s.target = r2;
        p.tasks.back().steps.push_back(std::move(s));
        break;
      }
      case kOp:
      case kOp2:
        if (in_irq) {
          p.irqs.back().ops.push_back(DecodeOp(r1, r2, r3));
        } else {
          current_step().ops.push_back(DecodeOp(r1, r2, r3));
        }
        break;
    }
  }
  Normalize(p);
  return p;
}

std::vector<uint8_t> EncodeBinary(const Program& in) {
  Program p = in;
  Normalize(p);
  return EncodeNormalized(p);
}

std::vector<uint8_t> EncodeNormalized(const Program& p) {
  std::vector<uint8_t> out;
  out.reserve(256);  // most programs; more grows as usual
  out.insert(out.end(), {kFormatVersion, static_cast<uint8_t>(p.num_vcpus - 1)});
  for (const MapDecl& m : p.maps) {
    out.insert(out.end(), {kMap, static_cast<uint8_t>(m.owner),
                           static_cast<uint8_t>((m.spin_lock ? 1 : 0) | (m.kptr ? 2 : 0)), 0});
  }
  for (const OwnerDecl& o : p.owners) out.insert(out.end(), {kOwner, static_cast<uint8_t>(o.kind), 0, 0});
  for (const TaskDecl& t : p.tasks) {
    out.insert(out.end(), {kTask, t.vcpu, static_cast<uint8_t>(t.migratable ? 1 : 0), 0});
    for (const Step& s : t.steps) {
      if (s.kind == StepKind::kProg) {
        out.insert(out.end(), {kProg, static_cast<uint8_t>(s.prog), 0, 0});
        for (const Op& op : s.ops) EncodeOp(op, out);
      } else {
        out.insert(out.end(), {kRelease, static_cast<uint8_t>(s.kind == StepKind::kReleaseMap ? 1 : 0), s.target, 0});
      }
    }
  }
  for (const IrqDecl& q : p.irqs) {
    out.insert(out.end(), {kIrq, static_cast<uint8_t>(q.kind == IrqKind::kNmi ? 1 : 0), q.vcpu, 0});
    for (const Op& op : q.ops) EncodeOp(op, out);
  }
  std::vector<uint8_t> sched = sched::BytesChoice::Encode(p.schedule);
  size_t events = sched.size() / sched::BytesChoice::kEventBytes;
  if (events > kMaxScheduleEvents) {
    events = kMaxScheduleEvents;
    sched.resize(events * sched::BytesChoice::kEventBytes);
  }
  out.insert(out.end(), sched.begin(), sched.end());
  out.push_back(static_cast<uint8_t>(events));
  return out;
}

}  // namespace reclaimfuzz::fuzz
