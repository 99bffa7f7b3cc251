// SPDX-License-Identifier: MIT
#include "engine/sched/trace.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reclaimfuzz::sched {
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

}  // namespace

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kPoint: return "point";
    case EventKind::kRun: return "run";
    case EventKind::kPreempt: return "preempt";
    case EventKind::kBlock: return "block";
    case EventKind::kWake: return "wake";
    case EventKind::kDone: return "done";
    case EventKind::kIrqPending: return "irq-pending";
    case EventKind::kIrqEnter: return "irq-enter";
    case EventKind::kIrqExit: return "irq-exit";
    case EventKind::kNote: return "note";
    case EventKind::kFinding: return "finding";
  }
  return "?";
}

void Trace::Reset(size_t capacity) {
  if (ring_.size() != capacity) ring_.assign(capacity, Event{});
  head_ = 0;
  total_ = 0;
  hash_ = kFnvOffset;
}

uint64_t Trace::LabelHash(const char* label) {
  if (label == nullptr) return 0;
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

void Trace::Add(const Event& e) {
  uint64_t h = Mix(hash_, e.step);
  h = Mix(h, static_cast<uint64_t>(e.arg));
  h = Mix(h, (static_cast<uint64_t>(static_cast<uint16_t>(e.task)) << 24) |
                 (static_cast<uint64_t>(static_cast<uint8_t>(e.vcpu)) << 16) |
                 (static_cast<uint64_t>(e.depth) << 8) | static_cast<uint64_t>(e.kind));
  hash_ = Mix(h, LabelHash(e.label));
  ++total_;
  if (ring_.empty()) return;
  ring_[head_] = e;
  head_ = (head_ + 1) % ring_.size();
}

std::vector<Event> Trace::Events() const {
  std::vector<Event> out;
  const size_t n = std::min<uint64_t>(total_, ring_.size());
  out.reserve(n);
  size_t start = (head_ + ring_.size() - n) % std::max<size_t>(ring_.size(), 1);
  for (size_t i = 0; i < n; ++i) out.push_back(ring_[(start + i) % ring_.size()]);
  return out;
}

std::string Trace::Timeline(const TimelineOptions& options) const {
  const int ncols = options.num_vcpus + 1;  // last column: housekeeping threads
  constexpr int kColWidth = 34;
  auto name_of = [&](int task) -> std::string {
    if (task >= 0 && static_cast<size_t>(task) < options.task_names.size()) {
      return options.task_names[task];
    }
    return task < 0 ? std::string("main") : absl::StrCat("t", task);
  };

  // Build rows, folding runs of points of one task into one row.
  struct Row {
    uint64_t step;
    int col;
    std::string text;
  };
  std::vector<Row> rows;
  const std::vector<Event> events = Events();
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const int col = (e.vcpu < 0 || e.vcpu >= options.num_vcpus) ? ncols - 1 : e.vcpu;
    std::string indent(2 * e.depth, ' ');
    std::string who = e.depth == 2 ? "NMI" : e.depth == 1 ? "IRQ" : name_of(e.task);
    if (e.kind == EventKind::kPoint) {
      if (!options.show_points) continue;
      size_t j = i;
      std::string labels = e.label ? e.label : "";
      int folded = 1;
      while (j + 1 < events.size() && events[j + 1].kind == EventKind::kPoint &&
             events[j + 1].task == e.task && events[j + 1].depth == e.depth &&
             events[j + 1].vcpu == e.vcpu) {
        ++j;
        ++folded;
        if (events[j].label && labels.size() < 120) absl::StrAppend(&labels, ", ", events[j].label);
      }
      std::string text = folded == 1 ? absl::StrCat(indent, who, " ", labels)
                                     : absl::StrCat(indent, who, " x", folded, " ", labels);
      rows.push_back({e.step, col, std::move(text)});
      i = j;
      continue;
    }
    std::string text;
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
        break;
      default:
        text = absl::StrCat(indent, who, " [", EventKindName(e.kind), "] ", e.label ? e.label : "");
        if (e.arg != 0) absl::StrAppend(&text, " #", e.arg);
        break;
    }
    rows.push_back({e.step, col, std::move(text)});
  }
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
