// SPDX-License-Identifier: MIT
#include "engine/sched/trace.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/sched/coverage.h"

namespace reclaimfuzz::sched {
using TimelineOptions = Trace::TimelineOptions;
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t Mix(uint64_t h, uint64_t v) {
  // FNV-1a over the 8 bytes of v, folded for speed.
  h ^= v;
  h *= kFnvPrime;
  h ^= h >> 29;
  return h;
}

// Odd multipliers (64-bit golden ratio and xxHash's primes), one per field
// of an event, so the fields' products are independent of each other.
constexpr uint64_t kStepMul = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kArgMul = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t kWhoMul = 0x165667b19e3779f9ull;

}  // namespace

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kPoint:
      return "point";
    case EventKind::kRun:
      return "run";
    case EventKind::kPreempt:
      return "preempt";
    case EventKind::kBlock:
      return "block";
    case EventKind::kWake:
      return "wake";
    case EventKind::kDone:
      return "done";
    case EventKind::kIrqPending:
      return "irq-pending";
    case EventKind::kIrqEnter:
      return "irq-enter";
    case EventKind::kIrqExit:
      return "irq-exit";
    case EventKind::kNote:
      return "note";
    case EventKind::kFinding:
      return "finding";
  }
  return "?";
}

void Trace::Reset(size_t capacity, bool context) {
  capacity = capacity == 0 ? 0 : std::bit_ceil(capacity);
  if (ring_.size() != capacity) ring_.assign(capacity, Slot{});
  mask_ = capacity == 0 ? 0 : capacity - 1;
  context_ = context;
  const size_t side = context ? capacity : 0;
  if (funcs_.size() != side) {
    funcs_.assign(side, nullptr);
    ops_.assign(side, -1);
  }
  head_ = 0;
  total_ = 0;
  hash_ = kFnvOffset;
}

// Not in the fuzzer's coverage (LabelHash, LabelHashMiss and Add, where
// LabelHash is inlined): whether a label is in the cache follows the
// labels' addresses, which move with ASLR, and what earlier inputs of the
// process added.
inline __attribute__((always_inline)) uint64_t Trace::LabelHash(const char* label) {
  if (label == nullptr) return 0;
  const size_t slot = (reinterpret_cast<uintptr_t>(label) >> 3) % kLabelCache;
  if (label_keys_[slot] == label) return label_vals_[slot];
  return LabelHashMiss(label);
}

RF_NO_COVERAGE __attribute__((noinline)) uint64_t Trace::LabelHashMiss(const char* label) {
  size_t slot = (reinterpret_cast<uintptr_t>(label) >> 3) % kLabelCache;
  for (size_t i = 0; i < kLabelCache; ++i, slot = (slot + 1) % kLabelCache) {
    if (label_keys_[slot] == label) return label_vals_[slot];
    if (label_keys_[slot] == nullptr) {
      uint64_t h = kFnvOffset;
      for (const char* p = label; *p != '\0'; ++p) {
        h ^= static_cast<unsigned char>(*p);
        h *= kFnvPrime;
      }
      label_keys_[slot] = label;
      label_vals_[slot] = h;
      return h;
    }
  }
  // Cache full (more than 1024 distinct labels): hash the content directly.
  uint64_t h = kFnvOffset;
  for (const char* p = label; *p != '\0'; ++p) h = (h ^ static_cast<unsigned char>(*p)) * kFnvPrime;
  return h;
}

RF_NO_COVERAGE void Trace::Add(const Event& e) {
  // One Mix per event on the chain through hash_ (a point's whole cost is
  // a few nanoseconds, and four chained multiplies were a fifth of it):
  // the fields are combined first, each multiplied by its own constant.
  const uint64_t who = (static_cast<uint64_t>(static_cast<uint16_t>(e.task)) << 24) |
                       (static_cast<uint64_t>(static_cast<uint8_t>(e.vcpu)) << 16) |
                       (static_cast<uint64_t>(e.depth) << 8) | static_cast<uint64_t>(e.kind);
  const uint64_t v =
      (e.step * kStepMul) ^ (static_cast<uint64_t>(e.arg) * kArgMul) ^ (who * kWhoMul) ^ LabelHash(e.label);
  hash_ = Mix(hash_, v);
  ++total_;
  if (ring_.empty()) return;
  ring_[head_] = Slot{e.step, e.arg, e.label, e.task, e.vcpu, e.depth, e.kind};
  if (context_) {
    funcs_[head_] = e.func;
    ops_[head_] = e.op;
  }
  head_ = (head_ + 1) & mask_;
}

std::vector<Event> Trace::Events() const {
  std::vector<Event> out;
  const size_t n = std::min<uint64_t>(total_, ring_.size());
  out.reserve(n);
  size_t start = (head_ + ring_.size() - n) % std::max<size_t>(ring_.size(), 1);
  for (size_t i = 0; i < n; ++i) {
    const size_t at = (start + i) % ring_.size();
    const Slot& s = ring_[at];
    Event e;
    e.step = s.step;
    e.arg = s.arg;
    e.label = s.label;
    e.func = context_ ? funcs_[at] : nullptr;
    e.task = s.task;
    e.op = context_ ? ops_[at] : int16_t{-1};
    e.vcpu = s.vcpu;
    e.depth = s.depth;
    e.kind = s.kind;
    out.push_back(e);
  }
  return out;
}

std::string Trace::Timeline(const TimelineOptions& options) const {
  const std::vector<Event> events = Events();
  return FormatTimeline(events, options);
}

namespace {

struct Row {
  uint64_t step;
  int col;
  std::string text;
  // The short form: what is worth keeping when rows must go (higher stays).
  int weight = 0;
  int task = -1;
  int depth = 0;
  bool point = false;
  bool has_func = false;  // a point row in a named function
  bool finding = false;   // the finding's own mark
};

std::string WhoOf(const Event& e, const TimelineOptions& options) {
  std::string name;
  if (e.task >= 0 && static_cast<size_t>(e.task) < options.task_names.size()) {
    name = options.task_names[e.task];
  } else {
    name = e.task < 0 ? std::string("main") : absl::StrCat("t", e.task);
  }
  if (e.depth == 2) return name + " NMI";
  if (e.depth == 1) return name + " IRQ";
  return name;
}

std::string OpText(int op, const TimelineOptions& options) {
  if (op < 0 || static_cast<size_t>(op) >= options.op_names.size()) return "";
  return options.op_names[op];
}

// The short form: one line per row, oldest first, at most max_rows lines;
// the rows that tell the story stay (see TimelineOptions::short_form).
std::string ShortTimeline(std::vector<Row> rows, const TimelineOptions& options) {
  int finding_task = -2, finding_depth = -1;
  for (const Row& r : rows) {
    if (r.finding) {
      finding_task = r.task;
      finding_depth = r.depth;
    }
  }
  std::vector<bool> keep(rows.size(), false);
  int finding_points = 0;
  // Contexts whose last point before the end is kept: where every other
  // task stood when it happened (a reader still inside its section).
  std::vector<std::pair<int, int>> placed;
  for (size_t i = rows.size(); i-- > 0;) {
    const Row& r = rows[i];
    if (!r.point) {
      keep[i] = r.weight >= 2;  // not other objects' allocations and frees
      continue;
    }
    if (r.has_func && std::find(placed.begin(), placed.end(), std::make_pair(r.task, r.depth)) == placed.end()) {
      placed.emplace_back(r.task, r.depth);
      if (!(r.task == finding_task && r.depth == finding_depth)) {
        keep[i] = true;
        rows[i].weight = 3;
        continue;
      }
    }
    // The access that went wrong: the last points of the finding's context.
    if (r.task == finding_task && r.depth == finding_depth && finding_points < 2) {
      keep[i] = true;
      r.weight < 3 ? (void)(rows[i].weight = 3) : (void)0;
      ++finding_points;
      continue;
    }
    // A point run right before something that happened in its context
    // (the code that made the note, took the interrupt or found the bug).
    for (size_t j = i + 1; j < rows.size(); ++j) {
      if (rows[j].task != r.task || rows[j].depth != r.depth) continue;
      keep[i] = !rows[j].point && rows[j].weight >= 2;
      break;
    }
  }
  std::vector<Row> kept;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (keep[i]) kept.push_back(std::move(rows[i]));
  }
  // Too many: the lightest rows go first, oldest first.
  for (int w = 0; kept.size() > options.max_rows && w < 4; ++w) {
    size_t extra = kept.size() - options.max_rows;
    std::vector<Row> next;
    for (Row& r : kept) {
      if (extra > 0 && r.weight <= w) {
        --extra;
        continue;
      }
      next.push_back(std::move(r));
    }
    kept = std::move(next);
  }
  if (kept.size() > options.max_rows) kept.erase(kept.begin(), kept.end() - options.max_rows);
  std::string out;
  for (const Row& r : kept) {
    const std::string cpu = r.col >= options.num_vcpus ? std::string("-") : absl::StrCat("cpu", r.col);
    absl::StrAppendFormat(&out, "%7d  %-4s  %s\n", r.step, cpu, r.text);
  }
  return out;
}

}  // namespace

std::string FormatTimeline(absl::Span<const Event> events, const TimelineOptions& options) {
  const int ncols = options.num_vcpus + 1;  // last column: housekeeping threads
  constexpr int kColWidth = 40;
  // The function each context (task, interrupt depth) is in: a point names
  // it; a note or a primitive's own point without one is shown in the
  // function the context last passed a point in.
  std::vector<const char*> func_of(static_cast<size_t>(std::max<int>(1, 3 * 64)), nullptr);
  std::vector<int> op_of(func_of.size(), -1);
  auto slot = [](const Event& e) -> size_t {
    const int t = e.task < 0 ? 63 : std::min<int>(e.task, 62);
    return static_cast<size_t>(3 * t + std::min<int>(e.depth, 2));
  };
  auto func = [&](const Event& e) -> const char* {
    const size_t k = slot(e);
    if (e.func != nullptr && e.func[0] != '\0') func_of[k] = e.func;
    return func_of[k];
  };

  std::vector<Row> rows;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const int col = (e.vcpu < 0 || e.vcpu >= options.num_vcpus) ? ncols - 1 : e.vcpu;
    const std::string indent(2 * e.depth, ' ');
    const std::string who = WhoOf(e, options);
    // A context starting a BPF operation: one row naming it.
    if (!options.op_names.empty() && e.op >= 0 && op_of[slot(e)] != e.op && e.kind != EventKind::kIrqExit) {
      op_of[slot(e)] = e.op;
      rows.push_back({e.step, col, absl::StrCat(indent, who, " > ", OpText(e.op, options)), 3, e.task, e.depth, false});
    }
    if (e.kind == EventKind::kPoint) {
      if (!options.show_points) continue;
      const char* fn = func(e);
      size_t j = i;
      std::string labels = e.label ? e.label : "";
      int folded = 1;
      // Runs of points of one context in one function fold into one row
      // (the short form folds a function's points whatever their labels).
      while (j + 1 < events.size() && events[j + 1].kind == EventKind::kPoint && events[j + 1].task == e.task &&
             events[j + 1].depth == e.depth && events[j + 1].vcpu == e.vcpu && events[j + 1].op == events[j].op &&
             (events[j + 1].func == nullptr || (fn != nullptr && strcmp(events[j + 1].func, fn) == 0))) {
        ++j;
        ++folded;
        (void)func(events[j]);
        if (events[j].label && labels.size() < 120) absl::StrAppend(&labels, ", ", events[j].label);
      }
      std::string text = absl::StrCat(indent, who);
      if (fn != nullptr) absl::StrAppend(&text, " ", fn, ":");
      if (folded > 1) absl::StrAppend(&text, " x", folded);
      absl::StrAppend(&text, " ", labels);
      rows.push_back({e.step, col, std::move(text), 1, e.task, e.depth, true, fn != nullptr});
      i = j;
      continue;
    }
    std::string text;
    int weight = 2;
    bool is_finding = false;
    switch (e.kind) {
      case EventKind::kIrqEnter:
        text = absl::StrCat(std::string(2 * (e.depth - 1), ' '), ">> ", e.depth == 2 ? "NMI " : "IRQ ",
                            e.label ? e.label : "");
        break;
      case EventKind::kIrqExit:
        text = absl::StrCat(std::string(2 * (e.depth - 1), ' '), "<< ", e.depth == 2 ? "NMI" : "IRQ");
        break;
      case EventKind::kFinding:
        text = absl::StrCat(indent, "!! ", e.label ? e.label : "");
        weight = 4;
        is_finding = true;
        break;
      case EventKind::kNote: {
        const char* fn = func(e);
        text = absl::StrCat(indent, who, " ", fn != nullptr ? absl::StrCat(fn, ": ") : "", e.label ? e.label : "");
        if (e.arg > 0) absl::StrAppend(&text, " #", e.arg);
        if (options.focus_object >= 0 && e.arg == options.focus_object) {
          weight = 4;
        } else if (e.arg != 0 && e.label != nullptr && !strstr(e.label, "GP ")) {
          weight = 1;  // another object's allocation or free
        }
        if (e.label != nullptr && strcmp(e.label, "migrate") == 0) weight = 0;
        if (options.finding != nullptr && e.label != nullptr && strcmp(e.label, options.finding) == 0) {
          weight = 4;
          is_finding = true;
        }
        break;
      }
      case EventKind::kRun:
      case EventKind::kPreempt:
      case EventKind::kWake:
      case EventKind::kDone:
      case EventKind::kIrqPending:
        weight = 0;
        [[fallthrough]];
      default:
        text = absl::StrCat(indent, who, " [", EventKindName(e.kind), "] ", e.label ? e.label : "");
        if (e.arg != 0) absl::StrAppend(&text, " #", e.arg);
        break;
    }
    rows.push_back({e.step, col, std::move(text), weight, e.task, e.depth, false, false, is_finding});
  }

  if (options.short_form) return ShortTimeline(std::move(rows), options);
  if (rows.size() > options.max_rows) rows.erase(rows.begin(), rows.end() - options.max_rows);

  std::string out;
  absl::StrAppendFormat(&out, "%7s", "step");
  for (int c = 0; c < ncols; ++c) {
    std::string head = c == ncols - 1 ? "housekeeping" : absl::StrCat("cpu", c);
    absl::StrAppendFormat(&out, " | %-*s", kColWidth, head);
  }
  out += "\n";
  for (const Row& r : rows) {
    absl::StrAppendFormat(&out, "%7d", r.step);
    for (int c = 0; c < ncols; ++c) {
      std::string cell = c == r.col ? r.text : "";
      if (cell.size() > static_cast<size_t>(kColWidth)) cell = cell.substr(0, kColWidth - 1) + "~";
      absl::StrAppendFormat(&out, " | %-*s", kColWidth, cell);
    }
    // Trim trailing blanks.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

}  // namespace reclaimfuzz::sched
