// SPDX-License-Identifier: MIT
#include "tools/cli/minimize.h"

#include <functional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tools/cli/command.h"
#include "tools/cli/flags.h"

namespace reclaimfuzz::cli {
namespace {

using fuzz::Op;
using fuzz::OpKind;
using fuzz::OpVector;
using fuzz::Program;
using fuzz::Step;
using fuzz::StepKind;

bool UsesMapAndOwner(const Op& op) {
  return op.kind == OpKind::kGet || op.kind == OpKind::kDelete || op.kind == OpKind::kLookup ||
         op.kind == OpKind::kUpdate || op.kind == OpKind::kSysDelete;
}

bool NotLarger(const ProgramSize& a, const ProgramSize& b) {
  return a.tasks <= b.tasks && a.irqs <= b.irqs && a.steps <= b.steps && a.ops <= b.ops && a.schedule <= b.schedule;
}

// Every op list of the program (task programs and interrupt programs).
void ForEachOps(Program& p, const std::function<void(OpVector&)>& fn) {
  for (fuzz::TaskDecl& t : p.tasks) {
    for (Step& s : t.steps) {
      if (s.kind == StepKind::kProg) fn(s.ops);
    }
  }
  for (fuzz::IrqDecl& q : p.irqs) fn(q.ops);
}

bool MapReferenced(Program& p, int m) {
  bool used = false;
  ForEachOps(p, [&](OpVector& ops) {
    for (const Op& op : ops) used |= UsesMapAndOwner(op) && op.map == m;
  });
  for (const fuzz::TaskDecl& t : p.tasks) {
    for (const Step& s : t.steps) used |= s.kind == StepKind::kReleaseMap && s.target == m;
  }
  return used;
}

bool OwnerReferenced(Program& p, int o) {
  bool used = false;
  ForEachOps(p, [&](OpVector& ops) {
    for (const Op& op : ops) used |= UsesMapAndOwner(op) && op.owner == o;
  });
  for (const fuzz::TaskDecl& t : p.tasks) {
    for (const Step& s : t.steps) used |= s.kind == StepKind::kReleaseOwner && s.target == o;
  }
  return used;
}

class Shrinker {
 public:
  Shrinker(const Program& p, storage::Variant v, std::string finding, int max_runs,
           std::function<std::string(const Program&)> identity)
      : cur_(p), variant_(v), finding_(std::move(finding)), max_runs_(max_runs), identity_(std::move(identity)) {}

  const Program& current() const { return cur_; }
  int runs() const { return runs_; }
  bool budget_spent() const { return runs_ >= max_runs_; }

  // Keeps `cand` if it still gives the finding and is no larger.
  bool Try(Program cand) {
    if (budget_spent()) return false;
    fuzz::Normalize(cand);
    if (cand == cur_ || !NotLarger(SizeOf(cand), SizeOf(cur_))) return false;
    ++runs_;
    if (Identity(cand) != finding_) return false;
    cur_ = std::move(cand);
    return true;
  }

  std::string Identity(const Program& p) const { return identity_ ? identity_(p) : RunOnce(p, variant_).finding; }

  // One round of every pass; true if anything was kept.
  bool Round() {
    bool changed = false;
    changed |= RemoveTasks();
    changed |= RemoveIrqs();
    changed |= RemoveSteps();
    changed |= RemoveOps();
    changed |= RemoveSchedule();
    changed |= RemoveMaps();
    changed |= RemoveOwners();
    changed |= LowerSchedule();
    changed |= LowerValues();
    return changed;
  }

 private:
  bool RemoveTasks() {
    bool changed = false;
    for (int i = static_cast<int>(cur_.tasks.size()) - 1; i >= 0; --i) {
      Program c = cur_;
      c.tasks.erase(c.tasks.begin() + i);
      changed |= Try(std::move(c));
    }
    return changed;
  }

  bool RemoveIrqs() {
    bool changed = false;
    for (int i = static_cast<int>(cur_.irqs.size()) - 1; i >= 0; --i) {
      Program c = cur_;
      c.irqs.erase(c.irqs.begin() + i);
      changed |= Try(std::move(c));
    }
    return changed;
  }

  bool RemoveSteps() {
    bool changed = false;
    for (int t = static_cast<int>(cur_.tasks.size()) - 1; t >= 0; --t) {
      for (int s = static_cast<int>(cur_.tasks[t].steps.size()) - 1; s >= 0; --s) {
        Program c = cur_;
        c.tasks[t].steps.erase(c.tasks[t].steps.begin() + s);
        changed |= Try(std::move(c));
      }
    }
    return changed;
  }

  // Ops of one list, addressed as (task, step) or (irq): lists may vanish
  // under us when a removal is kept, so each access is re-checked.
  OpVector* OpsAt(Program& p, int list) {
    int k = 0;
    for (fuzz::TaskDecl& t : p.tasks) {
      for (Step& s : t.steps) {
        if (k++ == list) return &s.ops;
      }
    }
    for (fuzz::IrqDecl& q : p.irqs) {
      if (k++ == list) return &q.ops;
    }
    return nullptr;
  }

  int NumOpLists() {
    int n = 0;
    for (const fuzz::TaskDecl& t : cur_.tasks) n += static_cast<int>(t.steps.size());
    return n + static_cast<int>(cur_.irqs.size());
  }

  bool RemoveOps() {
    bool changed = false;
    for (int l = NumOpLists() - 1; l >= 0; --l) {
      OpVector* ops = OpsAt(cur_, l);
      if (ops == nullptr) continue;
      for (int i = static_cast<int>(ops->size()) - 1; i >= 0; --i) {
        Program c = cur_;
        OpVector* cops = OpsAt(c, l);
        if (cops == nullptr || i >= static_cast<int>(cops->size())) break;
        cops->erase(cops->begin() + i);
        changed |= Try(std::move(c));
      }
    }
    return changed;
  }

  bool RemoveSchedule() {
    if (cur_.schedule.empty()) return false;
    Program none = cur_;
    none.schedule.clear();
    if (Try(std::move(none))) return true;
    bool changed = false;
    for (int i = static_cast<int>(cur_.schedule.size()) - 1; i >= 0; --i) {
      Program c = cur_;
      c.schedule.erase(c.schedule.begin() + i);
      changed |= Try(std::move(c));
    }
    return changed;
  }

  bool RemoveMaps() {
    bool changed = false;
    for (int m = static_cast<int>(cur_.maps.size()) - 1; m >= 0 && cur_.maps.size() > 1; --m) {
      Program c = cur_;
      if (MapReferenced(c, m)) continue;
      c.maps.erase(c.maps.begin() + m);
      ForEachOps(c, [&](OpVector& ops) {
        for (Op& op : ops) {
          if (UsesMapAndOwner(op) && op.map > m) --op.map;
        }
      });
      for (fuzz::TaskDecl& t : c.tasks) {
        for (Step& s : t.steps) {
          if (s.kind == StepKind::kReleaseMap && s.target > m) --s.target;
        }
      }
      changed |= Try(std::move(c));
    }
    return changed;
  }

  bool RemoveOwners() {
    bool changed = false;
    for (int o = static_cast<int>(cur_.owners.size()) - 1; o >= 0 && cur_.owners.size() > 1; --o) {
      Program c = cur_;
      if (OwnerReferenced(c, o)) continue;
      c.owners.erase(c.owners.begin() + o);
      ForEachOps(c, [&](OpVector& ops) {
        for (Op& op : ops) {
          if (UsesMapAndOwner(op) && op.owner > o) --op.owner;
        }
      });
      for (fuzz::TaskDecl& t : c.tasks) {
        for (Step& s : t.steps) {
          if (s.kind == StepKind::kReleaseOwner && s.target > o) --s.target;
        }
      }
      changed |= Try(std::move(c));
    }
    return changed;
  }

  // Each event's step toward the previous event's (a bisection: the
  // finding need not be monotonic in it, so this finds a smaller step that
  // works, not the smallest), then its action toward 0.
  bool LowerSchedule() {
    bool changed = false;
    for (size_t i = 0; i < cur_.schedule.size(); ++i) {
      uint64_t lo = i ? cur_.schedule[i - 1].step : 0;
      while (i < cur_.schedule.size() && cur_.schedule[i].step > lo && !budget_spent()) {
        const uint64_t hi = cur_.schedule[i].step;
        const uint64_t mid = lo + (hi - lo) / 2;
        Program c = cur_;
        c.schedule[i].step = mid;
        if (Try(std::move(c))) {
          changed = true;
        } else {
          lo = mid + 1;
        }
      }
      constexpr int kMaxActionTries = 8;
      for (int a = 0; i < cur_.schedule.size() && a < cur_.schedule[i].action && a < kMaxActionTries; ++a) {
        Program c = cur_;
        c.schedule[i].action = static_cast<uint8_t>(a);
        if (Try(std::move(c))) {
          changed = true;
          break;
        }
      }
    }
    return changed;
  }

  bool LowerValues() {
    bool changed = false;
    if (cur_.num_vcpus > 1) {
      Program c = cur_;
      --c.num_vcpus;
      changed |= Try(std::move(c));
    }
    for (size_t t = 0; t < cur_.tasks.size(); ++t) {
      if (!cur_.tasks[t].migratable) continue;
      Program c = cur_;
      c.tasks[t].migratable = false;
      changed |= Try(std::move(c));
    }
    for (size_t m = 0; m < cur_.maps.size(); ++m) {
      if (cur_.maps[m].spin_lock) {
        Program c = cur_;
        c.maps[m].spin_lock = false;
        changed |= Try(std::move(c));
      }
      if (cur_.maps[m].kptr) {
        Program c = cur_;
        c.maps[m].kptr = false;
        changed |= Try(std::move(c));
      }
    }
    for (int l = NumOpLists() - 1; l >= 0; --l) {
      OpVector* ops = OpsAt(cur_, l);
      if (ops == nullptr) continue;
      for (size_t i = 0; i < ops->size(); ++i) {
        const Op op = (*ops)[i];
        // value 0, then word 0, then no flags: one field at a time.
        for (int field = 0; field < 3; ++field) {
          Program c = cur_;
          OpVector* cops = OpsAt(c, l);
          if (cops == nullptr || i >= cops->size()) break;
          Op& x = (*cops)[i];
          if (field == 0 && op.value != 0)
            x.value = 0;
          else if (field == 1 && op.word != 0)
            x.word = 0;
          else if (field == 2 && op.flags != 0 && op.kind == OpKind::kUpdate)
            x.flags = 0;
          else
            continue;
          changed |= Try(std::move(c));
        }
        ops = OpsAt(cur_, l);
        if (ops == nullptr) break;
      }
    }
    return changed;
  }

  Program cur_;
  storage::Variant variant_;
  std::string finding_;
  int max_runs_;
  int runs_ = 0;
  std::function<std::string(const Program&)> identity_;
};

}  // namespace

MinimizeResult Minimize(const Program& p, storage::Variant v, const std::string& finding,
                        const MinimizeOptions& options) {
  MinimizeResult r;
  r.before = SizeOf(p);
  r.program = AsTargetsRun(p, v);  // what is written is what ran
  r.finding = options.identity ? options.identity(r.program) : RunOnce(p, v).finding;
  r.runs = 1;
  if (r.finding != finding) {
    r.after = r.before;
    return r;
  }
  Shrinker s(r.program, v, finding, options.max_runs, options.identity);
  while (!s.budget_spent()) {
    ++r.rounds;
    if (!s.Round()) break;
  }
  r.program = s.current();
  r.runs += s.runs();
  r.budget_spent = s.budget_spent();
  r.after = SizeOf(r.program);
  return r;
}

int MinimizeMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("minimize", args, out, err, &parsed); rc >= 0) return rc;
  if (absl::GetFlag(FLAGS_variant).empty()) {
    err << "reclaimfuzz minimize: --variant is required (" << AllVariantNames() << ")\n";
    return kExitUsage;
  }
  absl::StatusOr<storage::Variant> v = ParseOneVariant(absl::GetFlag(FLAGS_variant));
  if (!v.ok()) {
    err << "reclaimfuzz minimize: " << v.status().message() << "\n";
    return kExitUsage;
  }
  if (parsed.positional.size() != 1) {
    err << "reclaimfuzz minimize: expected one FILE (usage: reclaimfuzz "
           "minimize --variant V FILE [-o OUT])\n";
    return kExitUsage;
  }
  const std::string& path = parsed.positional[0];
  absl::StatusOr<Program> p = LoadProgram(path);
  if (!p.ok()) {
    err << "reclaimfuzz minimize: " << p.status().message() << "\n";
    return kExitUsage;
  }
  const std::string finding = RunOnce(*p, *v).finding;
  if (finding == "none") {
    err << "reclaimfuzz minimize: " << path << " gives no finding on " << storage::VariantName(*v)
        << ": nothing to keep while shrinking\n";
    return kExitUsage;
  }
  MinimizeOptions o;
  o.max_runs = absl::GetFlag(FLAGS_max_runs);
  const MinimizeResult r = Minimize(*p, *v, finding, o);
  std::string dest = absl::GetFlag(FLAGS_o);
  if (dest.empty()) dest = path + ".min.txt";
  const std::string text = absl::StrCat("# minimized from ", path, ": finding ", r.finding, " on variant ",
                                        storage::VariantName(*v), "\n", fuzz::FormatText(r.program));
  if (absl::Status s = WriteFile(dest, text); !s.ok()) {
    err << "reclaimfuzz minimize: " << s.message() << "\n";
    return kExitUsage;
  }
  out << "finding: " << r.finding << " on " << storage::VariantName(*v) << "\n";
  out << "before:  " << FormatSize(r.before) << "\n";
  out << "after:   " << FormatSize(r.after) << "\n";
  out << "runs:    " << r.runs << " in " << r.rounds << " rounds"
      << (r.budget_spent ? " (stopped at --max_runs; not a fixpoint)" : " (fixpoint)") << "\n";
  out << "wrote " << dest << "\n";
  return kExitOk;
}

}  // namespace reclaimfuzz::cli
