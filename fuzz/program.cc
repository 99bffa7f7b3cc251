// SPDX-License-Identifier: MIT
#include "fuzz/program.h"

#include <algorithm>

namespace reclaimfuzz::fuzz {

const char* OwnerName(Owner o) {
  switch (o) {
    case Owner::kTask:
      return "task";
    case Owner::kSk:
      return "sk";
    case Owner::kInode:
      return "inode";
    case Owner::kCgroup:
      return "cgroup";
  }
  return "?";
}

const char* ProgKindName(ProgKind k) {
  switch (k) {
    case ProgKind::kTracing:
      return "tracing";
    case ProgKind::kSleepable:
      return "sleepable";
    case ProgKind::kSyscall:
      return "syscall";
    case ProgKind::kRqLocked:
      return "rq_locked";
  }
  return "?";
}

const char* OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kGet:
      return "get";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kLookup:
      return "lookup";
    case OpKind::kUpdate:
      return "update";
    case OpKind::kSysDelete:
      return "sysdelete";
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kKptrXchg:
      return "kptr_xchg";
    case OpKind::kSleep:
      return "sleep";
  }
  return "?";
}

bool Program::operator==(const Program& o) const {
  if (num_vcpus != o.num_vcpus || maps.size() != o.maps.size() || owners.size() != o.owners.size() ||
      tasks != o.tasks || irqs != o.irqs || schedule.size() != o.schedule.size()) {
    return false;
  }
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].owner != o.maps[i].owner || maps[i].spin_lock != o.maps[i].spin_lock ||
        maps[i].kptr != o.maps[i].kptr) {
      return false;
    }
  }
  for (size_t i = 0; i < owners.size(); ++i) {
    if (owners[i].kind != o.owners[i].kind) return false;
  }
  for (size_t i = 0; i < schedule.size(); ++i) {
    if (schedule[i].step != o.schedule[i].step || schedule[i].action != o.schedule[i].action) {
      return false;
    }
  }
  return true;
}

namespace {

// Keeps ops whose map has an owner of its kind; points each at one. In
// place: it runs on every decode, and allocates nothing.
void NormalizeOps(const Program& p, OpVector& ops) {
  size_t kept = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    Op op = ops[i];
    if (kept >= static_cast<size_t>(kMaxOpsPerProg)) break;
    op.kind = static_cast<OpKind>(static_cast<int>(op.kind) % kNumOpKinds);
    op.map %= p.maps.size();
    op.slot %= kMaxSlots;
    op.word %= kValueWords;
    op.flags &= 7;
    const Owner want = p.maps[op.map].owner;
    op.owner %= p.owners.size();
    if (p.owners[op.owner].kind != want) {
      uint8_t candidates[kMaxOwners];
      size_t num_candidates = 0;
      for (size_t o = 0; o < p.owners.size(); ++o) {
        if (p.owners[o].kind == want) candidates[num_candidates++] = static_cast<uint8_t>(o);
      }
      const bool uses_owner = op.kind == OpKind::kGet || op.kind == OpKind::kDelete || op.kind == OpKind::kLookup ||
                              op.kind == OpKind::kUpdate || op.kind == OpKind::kSysDelete;
      if (num_candidates == 0) {
        if (uses_owner) continue;  // no owner of the map's kind: nothing to do
        op.owner = 0;
      } else {
        op.owner = candidates[op.owner % num_candidates];
      }
    }
    // Fields an op does not use are zero, so both encodings agree.
    switch (op.kind) {
      case OpKind::kGet:
        op.slot = op.word = 0;
        op.flags &= kFlagCreate;
        break;
      case OpKind::kUpdate:
        op.slot = op.word = 0;
        if ((op.flags & 3) == 3) op.flags &= ~3;  // NOEXIST|EXIST is not a flag: ANY
        break;
      case OpKind::kDelete:
      case OpKind::kLookup:
      case OpKind::kSysDelete:
        op.slot = op.word = op.flags = op.value = 0;
        break;
      case OpKind::kRead:
        op.map = op.owner = op.flags = op.value = 0;
        break;
      case OpKind::kWrite:
        op.map = op.owner = op.flags = 0;
        break;
      case OpKind::kKptrXchg:
        op.map = op.owner = op.word = op.flags = op.value = 0;
        break;
      case OpKind::kSleep:
        op = Op{OpKind::kSleep};
        break;
    }
    if (op.kind == OpKind::kRead || op.kind == OpKind::kWrite || op.kind == OpKind::kKptrXchg ||
        op.kind == OpKind::kSleep) {
      if (p.owners[op.owner].kind != p.maps[op.map].owner) op.owner = 0;
    }
    ops[kept++] = op;
  }
  ops.resize(kept);
}

}  // namespace

void Normalize(Program& p) {
  p.num_vcpus = static_cast<uint8_t>(std::clamp<int>(p.num_vcpus, 1, 4));
  if (p.maps.size() > kMaxMaps) p.maps.resize(kMaxMaps);
  if (p.owners.size() > kMaxOwners) p.owners.resize(kMaxOwners);
  if (p.maps.empty()) p.maps.push_back(MapDecl{});
  if (p.owners.empty()) p.owners.push_back(OwnerDecl{});
  for (MapDecl& m : p.maps) m.owner = static_cast<Owner>(static_cast<int>(m.owner) % kNumOwnerKinds);
  for (OwnerDecl& o : p.owners) o.kind = static_cast<Owner>(static_cast<int>(o.kind) % kNumOwnerKinds);
  if (p.tasks.size() > kMaxTasks) p.tasks.resize(kMaxTasks);
  for (TaskDecl& t : p.tasks) {
    t.vcpu %= p.num_vcpus;
    if (t.steps.size() > kMaxStepsPerTask) t.steps.resize(kMaxStepsPerTask);
    for (Step& s : t.steps) {
      s.kind = static_cast<StepKind>(static_cast<int>(s.kind) % 3);
      if (s.kind == StepKind::kProg) {
        s.prog = static_cast<ProgKind>(static_cast<int>(s.prog) % kNumProgKinds);
        s.target = 0;
        NormalizeOps(p, s.ops);
      } else {
        s.prog = ProgKind::kTracing;
        s.ops.clear();
        s.target %= s.kind == StepKind::kReleaseOwner ? p.owners.size() : p.maps.size();
      }
    }
  }
  if (p.irqs.size() > kMaxIrqs) p.irqs.resize(kMaxIrqs);
  for (IrqDecl& q : p.irqs) {
    q.kind = static_cast<IrqKind>(static_cast<int>(q.kind) & 1);
    q.vcpu %= p.num_vcpus;
    NormalizeOps(p, q.ops);
  }
  // Decoded schedules are in order already (the binary form stores gaps);
  // stable_sort would allocate its buffer even then.
  const auto by_step = [](const sched::ScheduleEvent& a, const sched::ScheduleEvent& b) { return a.step < b.step; };
  if (!std::is_sorted(p.schedule.begin(), p.schedule.end(), by_step)) {
    std::stable_sort(p.schedule.begin(), p.schedule.end(), by_step);
  }
  if (p.schedule.size() > kMaxScheduleEvents) p.schedule.resize(kMaxScheduleEvents);
  // The binary form stores 16-bit deltas between events: clamp each gap.
  uint64_t prev = 0;
  for (auto& e : p.schedule) {
    e.step = std::min<uint64_t>(e.step, prev + 0xffff);
    prev = e.step;
  }
}

absl::StatusOr<Program> DecodeAny(absl::Span<const uint8_t> bytes) {
  size_t i = 0;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\t' || bytes[i] == '\r')) ++i;
  // Text: starts like a program (a comment or a keyword) and holds no
  // control bytes. A fuzzer's binary input may start with a letter too.
  bool text = i < bytes.size() && (bytes[i] == '#' || (bytes[i] >= 'a' && bytes[i] <= 'z'));
  for (size_t j = i; text && j < bytes.size(); ++j) {
    const uint8_t c = bytes[j];
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') text = false;
  }
  if (text) {
    return ParseText(absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  return DecodeBinary(bytes);
}

}  // namespace reclaimfuzz::fuzz
