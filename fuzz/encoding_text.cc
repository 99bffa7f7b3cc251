// SPDX-License-Identifier: MIT
// The text form: reproducers, seeds and bug reports that people read.
//
//   # comment (anywhere after '#')
//   vcpus 2
//   map m0 task [spin_lock] [kptr]     # task | sk | inode | cgroup
//   owner o0 task
//   task cpu 0 [migratable]
//     prog sleepable                   # tracing | sleepable | syscall | rq_locked
//       get m0 o0 [create] [value 7]   # helper; its result is held as r0, r1, ...
//       read r0 word 1
//       write r0 word 1 value 9
//       kptr_xchg r0
//       sleep
//       delete m0 o0
//       lookup m0 o0                   # syscall ops: lookup, update, sysdelete
//       update m0 o0 [any|noexist|exist] [lock] [value 3]
//       sysdelete m0 o0
//     release owner o0                 # the owner's last reference: destroy
//     release map m0                   # the map's last reference: map_free
//   irq nmi cpu 0                      # hardirq | nmi; a tracing program
//     delete m0 o0
//   schedule
//     at 120 pick 2                    # at step 120 take option 2 (choice_bytes.h)
//
// Indentation is for people; structure comes from the keywords. Map and
// owner names are declared before use and stand for their indices. Errors
// name the line and column of the offending token.
#include <cctype>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "fuzz/program.h"

namespace reclaimfuzz::fuzz {
namespace {

struct Token {
  absl::string_view text;
  int column;  // 1-based
};

std::vector<Token> Tokenize(absl::string_view line) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == '#') break;
    if (std::isspace(static_cast<unsigned char>(line[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i])) && line[i] != '#') ++i;
    out.push_back(Token{line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return out;
}

class Parser {
 public:
  absl::StatusOr<Program> Parse(absl::string_view text) {
    int line_no = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++line_no;
      line_ = line_no;
      toks_ = Tokenize(line);
      pos_ = 0;
      if (toks_.empty()) continue;
      if (absl::Status s = Line(); !s.ok()) return s;
    }
    Normalize(p_);
    return p_;
  }

 private:
  absl::Status Error(int column, absl::string_view msg) {
    return absl::InvalidArgumentError(absl::StrCat("line ", line_, ", column ", column, ": ", msg));
  }
  absl::Status Error(const Token& t, absl::string_view msg) { return Error(t.column, msg); }
  absl::Status ErrorAtEnd(absl::string_view msg) {
    const Token& last = toks_.back();
    return Error(last.column + static_cast<int>(last.text.size()), msg);
  }
  bool More() const { return pos_ < toks_.size(); }
  const Token& Peek() const { return toks_[pos_]; }
  Token Next() { return toks_[pos_++]; }

  absl::Status Number(uint64_t max, absl::string_view what, uint64_t* out) {
    if (!More()) return ErrorAtEnd(absl::StrCat("expected ", what));
    const Token t = Next();
    if (!absl::SimpleAtoi(t.text, out) || *out > max) {
      return Error(t, absl::StrCat("expected ", what, " (0 to ", max, "), got '", t.text, "'"));
    }
    return absl::OkStatus();
  }

  absl::Status Keyword(absl::string_view want) {
    if (!More()) return ErrorAtEnd(absl::StrCat("expected '", want, "'"));
    const Token t = Next();
    if (t.text != want) return Error(t, absl::StrCat("expected '", want, "', got '", t.text, "'"));
    return absl::OkStatus();
  }

  absl::Status Done() {
    if (More()) return Error(Peek(), absl::StrCat("unexpected '", Peek().text, "'"));
    return absl::OkStatus();
  }

  absl::Status Name(const std::map<std::string, int, std::less<>>& names, absl::string_view what, uint8_t* out) {
    if (!More()) return ErrorAtEnd(absl::StrCat("expected a ", what, " name"));
    const Token t = Next();
    auto it = names.find(t.text);
    if (it == names.end()) return Error(t, absl::StrCat("unknown ", what, " '", t.text, "'"));
    *out = static_cast<uint8_t>(it->second);
    return absl::OkStatus();
  }

  absl::Status OwnerKind(Owner* out) {
    if (!More()) return ErrorAtEnd("expected an owner kind (task, sk, inode, cgroup)");
    const Token t = Next();
    for (int k = 0; k < kNumOwnerKinds; ++k) {
      if (t.text == OwnerName(static_cast<Owner>(k))) {
        *out = static_cast<Owner>(k);
        return absl::OkStatus();
      }
    }
    return Error(t, absl::StrCat("unknown owner kind '", t.text, "' (task, sk, inode, cgroup)"));
  }

  absl::Status Slot(uint8_t* out) {
    if (!More()) return ErrorAtEnd("expected a held value r0..r7");
    const Token t = Next();
    int n = -1;
    if (t.text.size() < 2 || t.text[0] != 'r' || !absl::SimpleAtoi(t.text.substr(1), &n) || n < 0 || n >= kMaxSlots) {
      return Error(t, absl::StrCat("expected a held value r0..r", kMaxSlots - 1, ", got '", t.text, "'"));
    }
    *out = static_cast<uint8_t>(n);
    return absl::OkStatus();
  }

  absl::Status Line() {
    const Token head = Next();
    const absl::string_view k = head.text;
    if (k == "vcpus") {
      uint64_t n;
      if (absl::Status s = Number(4, "a vCPU count", &n); !s.ok()) return s;
      if (n < 1) return Error(toks_[pos_ - 1], "a machine has 1 to 4 vCPUs");
      p_.num_vcpus = static_cast<uint8_t>(n);
      return Done();
    }
    if (k == "trace_implies_rcu_gp") {
      // Files written before it left the format say "on", which every
      // kernel modelled is: accepted and ignored (docs/design.md §5).
      if (!More()) return ErrorAtEnd("expected on");
      const Token t = Next();
      if (t.text == "off") {
        return Error(t, "rcu_trace_implies_rcu_gp() is true in every kernel modelled: 'off' is not a setting");
      }
      if (t.text != "on") return Error(t, "expected on");
      return Done();
    }
    if (k == "map" || k == "owner") {
      if (!More()) return ErrorAtEnd(absl::StrCat("expected a ", k, " name"));
      const Token name = Next();
      auto& names = k == "map" ? maps_ : owners_;
      if (names.count(name.text)) return Error(name, absl::StrCat(k, " '", name.text, "' declared twice"));
      const size_t limit = k == "map" ? kMaxMaps : kMaxOwners;
      if (names.size() >= limit) return Error(name, absl::StrCat("more than ", limit, " ", k, "s"));
      Owner kind;
      if (absl::Status s = OwnerKind(&kind); !s.ok()) return s;
      names.emplace(std::string(name.text), static_cast<int>(names.size()));
      if (k == "owner") {
        p_.owners.push_back(OwnerDecl{kind});
        return Done();
      }
      MapDecl m{kind};
      while (More()) {
        const Token t = Next();
        if (t.text == "spin_lock") {
          m.spin_lock = true;
        } else if (t.text == "kptr") {
          m.kptr = true;
        } else {
          return Error(t, absl::StrCat("unknown map attribute '", t.text, "' (spin_lock, kptr)"));
        }
      }
      p_.maps.push_back(m);
      return absl::OkStatus();
    }
    if (k == "task") {
      if (p_.tasks.size() >= kMaxTasks) return Error(head, absl::StrCat("more than ", kMaxTasks, " tasks"));
      TaskDecl t;
      uint64_t cpu;
      if (absl::Status s = Keyword("cpu"); !s.ok()) return s;
      if (absl::Status s = Number(3, "a vCPU", &cpu); !s.ok()) return s;
      t.vcpu = static_cast<uint8_t>(cpu);
      if (More() && Peek().text == "migratable") {
        Next();
        t.migratable = true;
      }
      p_.tasks.push_back(std::move(t));
      ctx_ = Ctx::kTask;
      return Done();
    }
    if (k == "irq") {
      if (p_.irqs.size() >= kMaxIrqs) return Error(head, absl::StrCat("more than ", kMaxIrqs, " irqs"));
      if (!More()) return ErrorAtEnd("expected hardirq or nmi");
      const Token kind = Next();
      if (kind.text != "hardirq" && kind.text != "nmi") return Error(kind, "expected hardirq or nmi");
      uint64_t cpu;
      if (absl::Status s = Keyword("cpu"); !s.ok()) return s;
      if (absl::Status s = Number(3, "a vCPU", &cpu); !s.ok()) return s;
      p_.irqs.push_back(IrqDecl{kind.text == "nmi" ? IrqKind::kNmi : IrqKind::kHardirq, static_cast<uint8_t>(cpu), {}});
      ctx_ = Ctx::kIrq;
      return Done();
    }
    if (k == "prog") {
      if (ctx_ != Ctx::kTask && ctx_ != Ctx::kProg) return Error(head, "'prog' outside a task");
      if (!More()) return ErrorAtEnd("expected a program kind (tracing, sleepable, syscall, rq_locked)");
      const Token kind = Next();
      Step s;
      bool found = false;
      for (int i = 0; i < kNumProgKinds; ++i) {
        if (kind.text == ProgKindName(static_cast<ProgKind>(i))) {
          s.prog = static_cast<ProgKind>(i);
          found = true;
        }
      }
      if (!found) return Error(kind, absl::StrCat("unknown program kind '", kind.text, "'"));
      if (p_.tasks.back().steps.size() >= kMaxStepsPerTask) {
        return Error(head, absl::StrCat("more than ", kMaxStepsPerTask, " steps in a task"));
      }
      p_.tasks.back().steps.push_back(std::move(s));
      ctx_ = Ctx::kProg;
      return Done();
    }
    if (k == "release") {
      if (ctx_ != Ctx::kTask && ctx_ != Ctx::kProg) return Error(head, "'release' outside a task");
      if (!More()) return ErrorAtEnd("expected owner or map");
      const Token what = Next();
      Step s;
      if (what.text == "owner") {
        s.kind = StepKind::kReleaseOwner;
        if (absl::Status st = Name(owners_, "owner", &s.target); !st.ok()) return st;
      } else if (what.text == "map") {
        s.kind = StepKind::kReleaseMap;
        if (absl::Status st = Name(maps_, "map", &s.target); !st.ok()) return st;
      } else {
        return Error(what, "expected owner or map");
      }
      if (p_.tasks.back().steps.size() >= kMaxStepsPerTask) {
        return Error(head, absl::StrCat("more than ", kMaxStepsPerTask, " steps in a task"));
      }
      p_.tasks.back().steps.push_back(std::move(s));
      ctx_ = Ctx::kTask;
      return Done();
    }
    if (k == "schedule") {
      ctx_ = Ctx::kSchedule;
      return Done();
    }
    if (k == "at") {
      if (ctx_ != Ctx::kSchedule) return Error(head, "'at' outside the schedule section");
      uint64_t step, action;
      if (absl::Status s = Number(1u << 24, "a step", &step); !s.ok()) return s;
      if (absl::Status s = Keyword("pick"); !s.ok()) return s;
      if (absl::Status s = Number(255, "an option index", &action); !s.ok()) return s;
      if (!p_.schedule.empty() && step < p_.schedule.back().step) {
        return Error(head, "schedule steps must not decrease");
      }
      if (p_.schedule.size() >= kMaxScheduleEvents) {
        return Error(head, absl::StrCat("more than ", kMaxScheduleEvents, " schedule events"));
      }
      p_.schedule.push_back(sched::ScheduleEvent{step, static_cast<uint8_t>(action)});
      return Done();
    }
    return OpLine(head);
  }

  absl::Status OpLine(const Token& head) {
    int kind = -1;
    for (int i = 0; i < kNumOpKinds; ++i) {
      if (head.text == OpKindName(static_cast<OpKind>(i))) kind = i;
    }
    if (kind < 0) return Error(head, absl::StrCat("unknown keyword or op '", head.text, "'"));
    OpVector* ops = nullptr;
    if (ctx_ == Ctx::kProg) ops = &p_.tasks.back().steps.back().ops;
    if (ctx_ == Ctx::kIrq) ops = &p_.irqs.back().ops;
    if (ops == nullptr) return Error(head, absl::StrCat("op '", head.text, "' outside a prog or irq"));
    if (ops->size() >= kMaxOpsPerProg) {
      return Error(head, absl::StrCat("more than ", kMaxOpsPerProg, " ops in one program"));
    }
    Op op;
    op.kind = static_cast<OpKind>(kind);
    auto map_owner = [&]() -> absl::Status {
      if (absl::Status s = Name(maps_, "map", &op.map); !s.ok()) return s;
      return Name(owners_, "owner", &op.owner);
    };
    auto value = [&]() -> absl::Status {
      uint64_t v;
      if (absl::Status s = Number(255, "a value", &v); !s.ok()) return s;
      op.value = static_cast<uint8_t>(v);
      return absl::OkStatus();
    };
    absl::Status st;
    switch (op.kind) {
      case OpKind::kGet:
        if (st = map_owner(); !st.ok()) return st;
        while (More()) {
          const Token t = Next();
          if (t.text == "create") {
            op.flags |= kFlagCreate;
          } else if (t.text == "value") {
            if (st = value(); !st.ok()) return st;
          } else {
            return Error(t, absl::StrCat("unknown get argument '", t.text, "' (create, value N)"));
          }
        }
        break;
      case OpKind::kUpdate:
        if (st = map_owner(); !st.ok()) return st;
        while (More()) {
          const Token t = Next();
          if (t.text == "any") {
            op.flags = (op.flags & kFlagLock) | kFlagAny;
          } else if (t.text == "noexist") {
            op.flags = (op.flags & kFlagLock) | kFlagNoexist;
          } else if (t.text == "exist") {
            op.flags = (op.flags & kFlagLock) | kFlagExist;
          } else if (t.text == "lock") {
            op.flags |= kFlagLock;
          } else if (t.text == "value") {
            if (st = value(); !st.ok()) return st;
          } else {
            return Error(t,
                         absl::StrCat("unknown update argument '", t.text, "' (any, noexist, exist, lock, value N)"));
          }
        }
        break;
      case OpKind::kDelete:
      case OpKind::kLookup:
      case OpKind::kSysDelete:
        if (st = map_owner(); !st.ok()) return st;
        break;
      case OpKind::kRead:
      case OpKind::kWrite: {
        if (st = Slot(&op.slot); !st.ok()) return st;
        if (st = Keyword("word"); !st.ok()) return st;
        uint64_t w;
        if (st = Number(kValueWords - 1, "a word index", &w); !st.ok()) return st;
        op.word = static_cast<uint8_t>(w);
        if (op.kind == OpKind::kWrite) {
          if (st = Keyword("value"); !st.ok()) return st;
          if (st = value(); !st.ok()) return st;
        }
        break;
      }
      case OpKind::kKptrXchg:
        if (st = Slot(&op.slot); !st.ok()) return st;
        break;
      case OpKind::kSleep:
        break;
    }
    ops->push_back(op);
    return Done();
  }

  enum class Ctx { kNone, kTask, kProg, kIrq, kSchedule };
  Program p_;
  int line_ = 0;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  Ctx ctx_ = Ctx::kNone;
  std::map<std::string, int, std::less<>> maps_, owners_;
};

void FormatOps(const Program& p, const OpVector& ops, absl::string_view indent, std::string& out) {
  int held = 0;
  for (const Op& op : ops) {
    absl::StrAppend(&out, indent, OpKindName(op.kind));
    switch (op.kind) {
      case OpKind::kGet:
        absl::StrAppend(&out, " m", op.map, " o", op.owner);
        if (op.flags & kFlagCreate) absl::StrAppend(&out, " create");
        if (op.value != 0) absl::StrAppend(&out, " value ", op.value);
        absl::StrAppend(&out, "  # -> r", held++ % kMaxSlots);
        break;
      case OpKind::kUpdate: {
        const uint8_t mode = op.flags & 3;
        absl::StrAppend(&out, " m", op.map, " o", op.owner,
                        mode == kFlagNoexist ? " noexist"
                        : mode == kFlagExist ? " exist"
                                             : " any");
        if (op.flags & kFlagLock) absl::StrAppend(&out, " lock");
        if (op.value != 0) absl::StrAppend(&out, " value ", op.value);
        break;
      }
      case OpKind::kLookup:
        absl::StrAppend(&out, " m", op.map, " o", op.owner, "  # -> r", held++ % kMaxSlots);
        break;
      case OpKind::kDelete:
      case OpKind::kSysDelete:
        absl::StrAppend(&out, " m", op.map, " o", op.owner);
        break;
      case OpKind::kRead:
        absl::StrAppend(&out, " r", op.slot, " word ", op.word);
        break;
      case OpKind::kWrite:
        absl::StrAppend(&out, " r", op.slot, " word ", op.word, " value ", op.value);
        break;
      case OpKind::kKptrXchg:
        absl::StrAppend(&out, " r", op.slot);
        break;
      case OpKind::kSleep:
        break;
    }
    (void)p;
    out += "\n";
  }
}

}  // namespace

absl::StatusOr<Program> ParseText(absl::string_view text) { return Parser().Parse(text); }

std::vector<std::string> OpNames(const Program& p) {
  std::vector<std::string> out;
  auto add_ops = [&](const OpVector& ops) {
    std::string text;
    FormatOps(p, ops, "", text);
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      std::string op(line);
      if (const size_t c = op.find("  # "); c != std::string::npos) {
        op = absl::StrCat(op.substr(0, c), " ", op.substr(c + 4));  // "get m0 o0 -> r0"
      }
      out.push_back(std::move(op));
    }
  };
  for (const TaskDecl& t : p.tasks) {
    for (const Step& s : t.steps) {
      switch (s.kind) {
        case StepKind::kProg:
          add_ops(s.ops);
          break;
        case StepKind::kReleaseOwner:
          out.push_back(absl::StrCat("release owner o", s.target));
          break;
        case StepKind::kReleaseMap:
          out.push_back(absl::StrCat("release map m", s.target));
          break;
      }
    }
  }
  for (const IrqDecl& q : p.irqs) add_ops(q.ops);
  return out;
}

std::string FormatText(const Program& in) {
  Program p = in;
  Normalize(p);
  std::string out = absl::StrCat("# reclaimfuzz program, format ", kFormatVersion, "\n");
  absl::StrAppend(&out, "vcpus ", p.num_vcpus, "\n");
  for (size_t i = 0; i < p.maps.size(); ++i) {
    absl::StrAppend(&out, "map m", i, " ", OwnerName(p.maps[i].owner), p.maps[i].spin_lock ? " spin_lock" : "",
                    p.maps[i].kptr ? " kptr" : "", "\n");
  }
  for (size_t i = 0; i < p.owners.size(); ++i) {
    absl::StrAppend(&out, "owner o", i, " ", OwnerName(p.owners[i].kind), "\n");
  }
  for (const TaskDecl& t : p.tasks) {
    absl::StrAppend(&out, "task cpu ", t.vcpu, t.migratable ? " migratable" : "", "\n");
    for (const Step& s : t.steps) {
      switch (s.kind) {
        case StepKind::kProg:
          absl::StrAppend(&out, "  prog ", ProgKindName(s.prog), "\n");
          FormatOps(p, s.ops, "    ", out);
          break;
        case StepKind::kReleaseOwner:
          absl::StrAppend(&out, "  release owner o", s.target, "\n");
          break;
        case StepKind::kReleaseMap:
          absl::StrAppend(&out, "  release map m", s.target, "\n");
          break;
      }
    }
  }
  for (const IrqDecl& q : p.irqs) {
    absl::StrAppend(&out, "irq ", q.kind == IrqKind::kNmi ? "nmi" : "hardirq", " cpu ", q.vcpu, "\n");
    FormatOps(p, q.ops, "  ", out);
  }
  if (!p.schedule.empty()) {
    out += "schedule\n";
    for (const auto& e : p.schedule) absl::StrAppend(&out, "  at ", e.step, " pick ", e.action, "\n");
  }
  return out;
}

}  // namespace reclaimfuzz::fuzz
