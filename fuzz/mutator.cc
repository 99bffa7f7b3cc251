// SPDX-License-Identifier: MIT
#include "fuzz/mutator.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace reclaimfuzz::fuzz {
namespace {

using sched::SplitMix64;

// Where an op list lives: a program step of a task, or an interrupt program.
struct OpList {
  OpVector* ops;
  ProgKind prog;  // an interrupt program is a tracing program
};

std::vector<OpList> OpLists(Program& p) {
  std::vector<OpList> out;
  for (TaskDecl& t : p.tasks) {
    for (Step& s : t.steps) {
      if (s.kind == StepKind::kProg) out.push_back({&s.ops, s.prog});
    }
  }
  for (IrqDecl& q : p.irqs) out.push_back({&q.ops, ProgKind::kTracing});
  return out;
}

size_t CountOps(Program& p) {
  size_t n = 0;
  for (const OpList& l : OpLists(p)) n += l.ops->size();
  return n;
}

// The n-th op over all lists, or nullptr.
Op* NthOp(Program& p, size_t n) {
  for (const OpList& l : OpLists(p)) {
    if (n < l.ops->size()) return &(*l.ops)[n];
    n -= l.ops->size();
  }
  return nullptr;
}

template <typename T>
T Pick(SplitMix64& rng, std::initializer_list<std::pair<T, int>> weighted) {
  int total = 0;
  for (const auto& [v, w] : weighted) total += w;
  int r = static_cast<int>(rng.Below(static_cast<uint64_t>(total)));
  for (const auto& [v, w] : weighted) {
    if (r < w) return v;
    r -= w;
  }
  return weighted.begin()->first;
}

// An op kind that the program kind can run (the interpreter skips the
// others, as the verifier would reject them): syscall ops in syscall
// "programs", helper calls elsewhere, sleep in sleepable programs only.
OpKind RandomKind(SplitMix64& rng, ProgKind prog) {
  if (prog == ProgKind::kSyscall) {
    return Pick<OpKind>(
        rng,
        {{OpKind::kLookup, 2}, {OpKind::kUpdate, 3}, {OpKind::kSysDelete, 3}, {OpKind::kRead, 1}, {OpKind::kWrite, 1}});
  }
  const int sleep = prog == ProgKind::kSleepable ? 1 : 0;
  return Pick<OpKind>(rng, {{OpKind::kGet, 5},
                            {OpKind::kDelete, 4},
                            {OpKind::kRead, 1},
                            {OpKind::kWrite, 1},
                            {OpKind::kKptrXchg, 1},
                            {OpKind::kSleep, sleep}});
}

// An owner declared with the map's kind, when there is one.
uint8_t OwnerFor(const Program& p, uint8_t map, SplitMix64& rng) {
  std::vector<uint8_t> candidates;
  for (size_t i = 0; i < p.owners.size(); ++i) {
    if (p.owners[i].kind == p.maps[map].owner) candidates.push_back(static_cast<uint8_t>(i));
  }
  if (candidates.empty()) return static_cast<uint8_t>(rng.Below(p.owners.size()));
  return candidates[rng.Below(candidates.size())];
}

Op RandomOp(const Program& p, ProgKind prog, SplitMix64& rng) {
  Op op;
  op.kind = RandomKind(rng, prog);
  op.map = static_cast<uint8_t>(rng.Below(p.maps.size()));
  op.owner = OwnerFor(p, op.map, rng);
  op.slot = static_cast<uint8_t>(rng.Below(4));
  op.word = static_cast<uint8_t>(rng.Below(kValueWords));
  op.value = static_cast<uint8_t>(rng.Next());
  switch (op.kind) {
    case OpKind::kGet:
      op.flags = rng.OneIn(4) ? 0 : kFlagCreate;
      break;
    case OpKind::kUpdate:
      op.flags = static_cast<uint8_t>(rng.Below(8));
      break;
    default:
      break;
  }
  return op;
}

void ChangeOp(Program& p, Op& op, ProgKind prog, SplitMix64& rng) {
  switch (rng.Below(5)) {
    case 0:
      op.kind = RandomKind(rng, prog);
      if (op.kind == OpKind::kGet) op.flags = kFlagCreate;
      break;
    case 1:
      op.map = static_cast<uint8_t>(rng.Below(p.maps.size()));
      op.owner = OwnerFor(p, op.map, rng);
      break;
    case 2:
      op.owner = static_cast<uint8_t>(rng.Below(p.owners.size()));
      break;
    case 3:
      op.flags = static_cast<uint8_t>(rng.Below(8));
      break;
    case 4:
      op.slot = static_cast<uint8_t>(rng.Below(kMaxSlots));
      op.word = static_cast<uint8_t>(rng.Below(kValueWords));
      op.value = static_cast<uint8_t>(rng.Next());
      break;
  }
}

// An op list to insert into: a random existing one, or a tracing program
// opened in a task on vCPU 0 when there is none.
OpList SomeList(Program& p, SplitMix64& rng) {
  std::vector<OpList> lists = OpLists(p);
  if (lists.empty()) {
    if (p.tasks.empty()) p.tasks.push_back(TaskDecl{});
    p.tasks.back().steps.push_back(Step{});
    return {&p.tasks.back().steps.back().ops, ProgKind::kTracing};
  }
  return lists[rng.Below(lists.size())];
}

enum class Edit {
  kInsertOp,
  kCopyOp,
  kRemoveOp,
  kChangeOp,
  kAddStep,
  kRemoveStep,
  kAddTask,
  kAddIrq,
  kRemoveIrq,
  kPlacement,  // a task's or an interrupt's vCPU, kinds, number of vCPUs
  kAddDecl,
  kChangeDecl,
};

}  // namespace

Program GenerateProgram(SplitMix64& rng, uint64_t horizon) {
  Program p;
  p.num_vcpus = static_cast<uint8_t>(1 + rng.Below(4));
  const int owners = 1 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < owners; ++i) p.owners.push_back(OwnerDecl{static_cast<Owner>(rng.Below(kNumOwnerKinds))});
  const int maps = 1 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < maps; ++i) {
    // Mostly maps for a declared owner kind, so ops have something to name.
    const Owner kind =
        rng.OneIn(4) ? static_cast<Owner>(rng.Below(kNumOwnerKinds)) : p.owners[rng.Below(p.owners.size())].kind;
    p.maps.push_back(MapDecl{kind, rng.OneIn(3), rng.OneIn(3)});
  }
  const int tasks = 1 + static_cast<int>(rng.Below(4));
  for (int t = 0; t < tasks; ++t) {
    TaskDecl task;
    task.vcpu = static_cast<uint8_t>(rng.Below(p.num_vcpus));
    task.migratable = rng.OneIn(4);
    const int steps = 1 + static_cast<int>(rng.Below(3));
    for (int i = 0; i < steps; ++i) {
      Step s;
      if (rng.OneIn(8)) {
        s.kind = rng.OneIn(2) ? StepKind::kReleaseOwner : StepKind::kReleaseMap;
        s.target = static_cast<uint8_t>(rng.Below(s.kind == StepKind::kReleaseMap ? p.maps.size() : p.owners.size()));
      } else {
        s.prog = Pick<ProgKind>(
            rng,
            {{ProgKind::kTracing, 4}, {ProgKind::kSleepable, 2}, {ProgKind::kSyscall, 1}, {ProgKind::kRqLocked, 1}});
        const int ops = 1 + static_cast<int>(rng.Below(6));
        for (int o = 0; o < ops; ++o) s.ops.push_back(RandomOp(p, s.prog, rng));
      }
      task.steps.push_back(std::move(s));
    }
    p.tasks.push_back(std::move(task));
  }
  const int irqs = static_cast<int>(rng.Below(4));
  for (int i = 0; i < irqs; ++i) {
    IrqDecl q;
    q.kind = rng.OneIn(2) ? IrqKind::kNmi : IrqKind::kHardirq;
    q.vcpu = rng.OneIn(4) ? static_cast<uint8_t>(rng.Below(p.num_vcpus)) : p.tasks[rng.Below(p.tasks.size())].vcpu;
    const int ops = 1 + static_cast<int>(rng.Below(3));
    for (int o = 0; o < ops; ++o) q.ops.push_back(RandomOp(p, ProgKind::kTracing, rng));
    p.irqs.push_back(std::move(q));
  }
  horizon = std::max<uint64_t>(horizon, 64);
  const int events = static_cast<int>(rng.Below(12));
  for (int i = 0; i < events; ++i) {
    p.schedule.push_back({1 + rng.Below(horizon), static_cast<uint8_t>(rng.Below(8))});
  }
  Normalize(p);
  return p;
}

void MutateSchedule(Program& p, SplitMix64& rng, uint64_t horizon, absl::Span<const uint64_t> waits) {
  auto& events = p.schedule;
  horizon = std::max<uint64_t>(horizon, 16);
  if (!waits.empty() && rng.OneIn(4)) {  // a stall at a spin-wait's first spin
    const uint64_t step = waits[rng.Below(waits.size())];
    auto at = std::lower_bound(events.begin(), events.end(), step,
                               [](const sched::ScheduleEvent& e, uint64_t s) { return e.step < s; });
    if (at != events.end() && at->step == step) {
      at->action = 0;
    } else if (events.size() < static_cast<size_t>(kMaxScheduleEvents)) {
      events.insert(at, sched::ScheduleEvent{step, 0});
    }
    return;
  }
  switch (events.empty() ? 0 : rng.Below(4)) {
    case 0:  // a new decision somewhere in the run
      if (events.size() < static_cast<size_t>(kMaxScheduleEvents)) {
        const sched::ScheduleEvent e{1 + rng.Below(horizon), static_cast<uint8_t>(rng.Below(8))};
        events.insert(std::upper_bound(events.begin(), events.end(), e,
                                       [](const auto& a, const auto& b) { return a.step < b.step; }),
                      e);
      }
      break;
    case 1: {  // move one a little
      auto& e = events[rng.Below(events.size())];
      const int64_t delta = static_cast<int64_t>(rng.Below(17)) - 8;
      e.step = static_cast<uint64_t>(std::max<int64_t>(1, static_cast<int64_t>(e.step) + delta));
      std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
      break;
    }
    case 2:  // take another option there
      events[rng.Below(events.size())].action = static_cast<uint8_t>(rng.Below(8));
      break;
    case 3:  // drop one
      events.erase(events.begin() + static_cast<long>(rng.Below(events.size())));
      break;
  }
}

void MutateStructure(Program& p, SplitMix64& rng) {
  Normalize(p);
  const size_t ops = CountOps(p);
  const Edit edit = Pick<Edit>(rng, {{Edit::kInsertOp, 8},
                                     {Edit::kCopyOp, ops ? 6 : 0},
                                     {Edit::kRemoveOp, ops ? 3 : 0},
                                     {Edit::kChangeOp, ops ? 5 : 0},
                                     {Edit::kAddStep, 2},
                                     {Edit::kRemoveStep, p.tasks.empty() ? 0 : 1},
                                     {Edit::kAddTask, 2},
                                     {Edit::kAddIrq, 3},
                                     {Edit::kRemoveIrq, p.irqs.empty() ? 0 : 1},
                                     {Edit::kPlacement, 3},
                                     {Edit::kAddDecl, 2},
                                     {Edit::kChangeDecl, 1}});
  switch (edit) {
    case Edit::kInsertOp: {
      OpList l = SomeList(p, rng);
      const Op op = RandomOp(p, l.prog, rng);
      l.ops->insert(l.ops->begin() + static_cast<long>(rng.Below(l.ops->size() + 1)), op);
      break;
    }
    case Edit::kCopyOp: {  // e.g. the task's delete into the NMI program
      const Op op = *NthOp(p, rng.Below(ops));
      OpList l = SomeList(p, rng);
      l.ops->insert(l.ops->begin() + static_cast<long>(rng.Below(l.ops->size() + 1)), op);
      break;
    }
    case Edit::kRemoveOp: {
      size_t n = rng.Below(ops);
      for (const OpList& l : OpLists(p)) {
        if (n < l.ops->size()) {
          l.ops->erase(l.ops->begin() + static_cast<long>(n));
          break;
        }
        n -= l.ops->size();
      }
      break;
    }
    case Edit::kChangeOp: {
      size_t n = rng.Below(ops);
      for (const OpList& l : OpLists(p)) {
        if (n < l.ops->size()) {
          ChangeOp(p, (*l.ops)[n], l.prog, rng);
          break;
        }
        n -= l.ops->size();
      }
      break;
    }
    case Edit::kAddStep: {
      if (p.tasks.empty()) p.tasks.push_back(TaskDecl{});
      TaskDecl& t = p.tasks[rng.Below(p.tasks.size())];
      Step s;
      if (rng.OneIn(5)) {
        s.kind = rng.OneIn(2) ? StepKind::kReleaseOwner : StepKind::kReleaseMap;
        s.target = static_cast<uint8_t>(rng.Below(s.kind == StepKind::kReleaseMap ? p.maps.size() : p.owners.size()));
      } else {
        s.prog = static_cast<ProgKind>(rng.Below(kNumProgKinds));
        s.ops.push_back(RandomOp(p, s.prog, rng));
      }
      t.steps.insert(t.steps.begin() + static_cast<long>(rng.Below(t.steps.size() + 1)), std::move(s));
      break;
    }
    case Edit::kRemoveStep: {
      TaskDecl& t = p.tasks[rng.Below(p.tasks.size())];
      if (!t.steps.empty())
        t.steps.erase(t.steps.begin() + static_cast<long>(rng.Below(t.steps.size())));
      else
        p.tasks.erase(p.tasks.begin() + static_cast<long>(&t - p.tasks.data()));
      break;
    }
    case Edit::kAddTask: {
      TaskDecl t;
      t.vcpu = static_cast<uint8_t>(rng.Below(p.num_vcpus));
      t.migratable = rng.OneIn(4);
      if (!p.tasks.empty() && rng.OneIn(2)) {
        t.steps = p.tasks[rng.Below(p.tasks.size())].steps;  // a copy, to race with
      } else {
        Step s;
        s.prog = static_cast<ProgKind>(rng.Below(kNumProgKinds));
        s.ops.push_back(RandomOp(p, s.prog, rng));
        t.steps.push_back(std::move(s));
      }
      p.tasks.push_back(std::move(t));
      break;
    }
    case Edit::kAddIrq: {
      IrqDecl q;
      q.kind = rng.OneIn(2) ? IrqKind::kNmi : IrqKind::kHardirq;
      q.vcpu = p.tasks.empty() || rng.OneIn(4) ? static_cast<uint8_t>(rng.Below(p.num_vcpus))
                                               : p.tasks[rng.Below(p.tasks.size())].vcpu;
      q.ops.push_back(ops && rng.OneIn(2) ? *NthOp(p, rng.Below(ops)) : RandomOp(p, ProgKind::kTracing, rng));
      p.irqs.push_back(std::move(q));
      break;
    }
    case Edit::kRemoveIrq:
      p.irqs.erase(p.irqs.begin() + static_cast<long>(rng.Below(p.irqs.size())));
      break;
    case Edit::kPlacement:
      switch (rng.Below(5)) {
        case 0:
          p.num_vcpus = static_cast<uint8_t>(1 + rng.Below(4));
          break;
        case 1:
          if (!p.tasks.empty()) {
            TaskDecl& t = p.tasks[rng.Below(p.tasks.size())];
            t.vcpu = static_cast<uint8_t>(rng.Below(p.num_vcpus));
            if (rng.OneIn(3)) t.migratable = !t.migratable;
          }
          break;
        case 2:
          if (!p.irqs.empty()) {
            IrqDecl& q = p.irqs[rng.Below(p.irqs.size())];
            if (rng.OneIn(2)) {
              q.kind = q.kind == IrqKind::kNmi ? IrqKind::kHardirq : IrqKind::kNmi;
            } else {
              q.vcpu = static_cast<uint8_t>(rng.Below(p.num_vcpus));
            }
          }
          break;
        default: {  // a program's kind
          std::vector<Step*> progs;
          for (TaskDecl& t : p.tasks) {
            for (Step& s : t.steps) {
              if (s.kind == StepKind::kProg) progs.push_back(&s);
            }
          }
          if (!progs.empty()) progs[rng.Below(progs.size())]->prog = static_cast<ProgKind>(rng.Below(kNumProgKinds));
          break;
        }
      }
      break;
    case Edit::kAddDecl:
      if (rng.OneIn(2)) {
        // A map for an owner kind already declared, mostly.
        const Owner kind =
            rng.OneIn(4) ? static_cast<Owner>(rng.Below(kNumOwnerKinds)) : p.owners[rng.Below(p.owners.size())].kind;
        p.maps.push_back(MapDecl{kind, rng.OneIn(3), rng.OneIn(3)});
      } else {
        const Owner kind =
            rng.OneIn(4) ? static_cast<Owner>(rng.Below(kNumOwnerKinds)) : p.maps[rng.Below(p.maps.size())].owner;
        p.owners.push_back(OwnerDecl{kind});
      }
      break;
    case Edit::kChangeDecl: {
      MapDecl& m = p.maps[rng.Below(p.maps.size())];
      switch (rng.Below(3)) {
        case 0:
          m.spin_lock = !m.spin_lock;
          break;
        case 1:
          m.kptr = !m.kptr;
          break;
        case 2:
          m.owner = static_cast<Owner>(rng.Below(kNumOwnerKinds));
          break;
      }
      break;
    }
  }
  Normalize(p);
}

void CrossOver(Program& a, const Program& b, SplitMix64& rng) {
  Normalize(a);
  switch (rng.Below(4)) {
    case 0:  // one of b's tasks
      if (!b.tasks.empty()) a.tasks.push_back(b.tasks[rng.Below(b.tasks.size())]);
      break;
    case 1:  // one of b's interrupt programs
      if (!b.irqs.empty()) a.irqs.push_back(b.irqs[rng.Below(b.irqs.size())]);
      break;
    case 2: {  // a run of b's ops into one of a's lists
      Program bb = b;
      std::vector<OpList> from = OpLists(bb);
      if (from.empty()) break;
      const OpVector& src = *from[rng.Below(from.size())].ops;
      if (src.empty()) break;
      const size_t begin = rng.Below(src.size());
      const size_t len = 1 + rng.Below(src.size() - begin);
      OpList to = SomeList(a, rng);
      to.ops->insert(to.ops->begin() + static_cast<long>(rng.Below(to.ops->size() + 1)),
                     src.begin() + static_cast<long>(begin), src.begin() + static_cast<long>(begin + len));
      break;
    }
    case 3:  // b's schedule
      a.schedule = b.schedule;
      break;
  }
  Normalize(a);
}

size_t MutateInput(uint8_t* data, size_t size, size_t max_size, unsigned seed, uint64_t horizon,
                   absl::Span<const uint64_t> waits, ByteMutator bytes) {
  SplitMix64 rng(seed);
  // Shares: 1/8 byte-level, 1/16 a new program (always for an input
  // without ops), then 1/2 structure, 1/2 schedule.
  if (bytes != nullptr && rng.OneIn(8)) return bytes(data, size, max_size);
  Program p = DecodeBinary(absl::MakeConstSpan(data, size));
  if (CountOps(p) == 0 || rng.OneIn(16)) {
    p = GenerateProgram(rng, horizon);
  } else if (rng.OneIn(2)) {
    MutateStructure(p, rng);
  } else {
    MutateSchedule(p, rng, horizon, waits);
  }
  Normalize(p);
  const std::vector<uint8_t> out = EncodeNormalized(p);
  if (out.size() > max_size) return bytes != nullptr ? bytes(data, size, max_size) : size;
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

size_t CrossOverInputs(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2, uint8_t* out,
                       size_t max_out_size, unsigned seed) {
  SplitMix64 rng(seed);
  Program a = DecodeBinary(absl::MakeConstSpan(data1, size1));
  const Program b = DecodeBinary(absl::MakeConstSpan(data2, size2));
  CrossOver(a, b, rng);  // ends with Normalize(a)
  const std::vector<uint8_t> bytes = EncodeNormalized(a);
  if (bytes.size() > max_out_size) return 0;
  std::memcpy(out, bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace reclaimfuzz::fuzz
