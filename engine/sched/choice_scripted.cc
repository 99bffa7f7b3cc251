// SPDX-License-Identifier: MIT
#include "engine/sched/choice_scripted.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reclaimfuzz::sched {
namespace {

bool Fits(const Option& want, const Option& have) {
  return want.kind == have.kind && want.task == have.task && want.irq == have.irq &&
         (want.vcpu == kAnyVcpu || want.vcpu == have.vcpu);
}

}  // namespace

Option RunOption(int task, int vcpu) {
  return Option{Option::kRun, static_cast<int16_t>(task), -1, static_cast<int8_t>(vcpu)};
}

Option InterruptOption(int irq) { return Option{Option::kInterrupt, -1, static_cast<int16_t>(irq), -1}; }

void ScriptedChoice::Add(std::string label, int task, int nth, Option option) {
  rules_.push_back(Rule{std::move(label), task, nth, option});
}

void ScriptedChoice::SetBackground(int task) { background_.push_back(task); }

void ScriptedChoice::Clear() {
  rules_.clear();
  background_.clear();
}

bool ScriptedChoice::AllFired() const {
  for (const Rule& r : rules_) {
    if (!r.fired) return false;
  }
  return true;
}

void ScriptedChoice::Begin(const ExecutionShape& shape) {
  for (Rule& r : rules_) {
    r.seen = 0;
    r.fired = false;
  }
  if (config_.fallback != nullptr) config_.fallback->Begin(shape);
}

bool ScriptedChoice::Consult(const PointHeader& header) {
  // Every point an unfired rule matches must reach Choose(), where it is
  // counted; the fallback is asked only about the others.
  for (const Rule& r : rules_) {
    if (!r.fired && Matches(r, header)) return true;
  }
  return config_.fallback != nullptr && config_.fallback->Consult(header);
}

size_t ScriptedChoice::Choose(const PointView& view) {
  for (Rule& r : rules_) {
    if (r.fired || !Matches(r, view.header)) continue;
    if (r.seen < r.nth) ++r.seen;
    if (r.seen < r.nth) continue;
    for (size_t i = 0; i < view.options.size(); ++i) {
      if (Fits(r.option, view.options[i])) {
        r.fired = true;
        return i;
      }
    }
    // Not legal here: the rule stays armed for its next match.
  }
  const size_t chosen = config_.fallback != nullptr ? config_.fallback->Choose(view) : DefaultChoice(view);
  return AvoidBackground(view, chosen);
}

std::string ScriptedChoice::Describe() const {
  std::string out = absl::StrCat("scripted(", rules_.size(), " rules");
  if (!background_.empty()) absl::StrAppend(&out, ", ", background_.size(), " background");
  if (config_.points == Points::kTaskOwn) out += ", task points";
  if (config_.fallback != nullptr) absl::StrAppend(&out, ", else ", config_.fallback->Describe());
  return out + ")";
}

bool ScriptedChoice::Matches(const Rule& rule, const PointHeader& header) const {
  if (config_.points == Points::kTaskOwn && (header.in_interrupt || header.task < 0)) return false;
  if (rule.task >= 0 && rule.task != header.task) return false;
  return rule.label.empty() || (header.label != nullptr && std::strstr(header.label, rule.label.c_str()) != nullptr);
}

bool ScriptedChoice::IsBackground(int task) const {
  for (int b : background_) {
    if (b == task) return true;
  }
  return false;
}

size_t ScriptedChoice::AvoidBackground(const PointView& view, size_t chosen) const {
  const auto& opts = view.options;
  if (background_.empty() || chosen >= opts.size()) return chosen;
  if (opts[chosen].kind != Option::kRun || !IsBackground(opts[chosen].task)) return chosen;
  const PointKind kind = view.header.kind;
  if (opts[0].kind == Option::kContinue && kind != PointKind::kSpin && kind != PointKind::kPick) {
    return 0;
  }
  for (size_t k = 1; k <= opts.size(); ++k) {
    const size_t i = (chosen + k) % opts.size();
    if (opts[i].kind == Option::kRun && !IsBackground(opts[i].task)) return i;
  }
  return chosen;
}

}  // namespace reclaimfuzz::sched
