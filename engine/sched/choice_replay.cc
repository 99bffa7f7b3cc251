// SPDX-License-Identifier: MIT
#include "engine/sched/choice_replay.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace reclaimfuzz::sched {

size_t ReplayChoice::Choose(const PointView& view) {
  if (next_ < decisions_.size() && decisions_[next_].step == view.header.step) {
    const Option want = decisions_[next_++].option;
    for (size_t i = 0; i < view.options.size(); ++i) {
      if (view.options[i] == want) return i;
    }
    ++mismatches_;
  } else if (next_ < decisions_.size() && decisions_[next_].step < view.header.step) {
    ++next_;  // its step was never consulted: the run diverged
    ++mismatches_;
  }
  return DefaultChoice(view);
}

std::string ReplayChoice::Describe() const { return absl::StrCat("replay(", decisions_.size(), " decisions)"); }

std::string ReplayChoice::Format(const std::vector<Decision>& decisions) {
  std::string out;
  for (const Decision& d : decisions) {
    if (!out.empty()) out += ' ';
    absl::StrAppend(&out, "s", d.step, ":");
    switch (d.option.kind) {
      case Option::kContinue:
        out += "cont";
        break;
      case Option::kRun:
        absl::StrAppend(&out, "run", d.option.task);
        if (d.option.vcpu >= 0) absl::StrAppend(&out, "@", d.option.vcpu);
        break;
      case Option::kInterrupt:
        absl::StrAppend(&out, "irq", d.option.irq);
        break;
      case Option::kFail:
        out += "fail";
        break;
    }
  }
  return out;
}

absl::StatusOr<std::vector<Decision>> ReplayChoice::Parse(absl::string_view text) {
  std::vector<Decision> out;
  int index = 0;
  for (absl::string_view tok : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    ++index;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("schedule token ", index, " '", tok, "': ", why));
    };
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(tok, absl::MaxSplits(':', 1));
    if (kv.first.size() < 2 || kv.first[0] != 's') return bad("expected s<step>:<action>");
    Decision d;
    if (!absl::SimpleAtoi(kv.first.substr(1), &d.step)) return bad("bad step number");
    int id = -1;
    if (kv.second == "cont") {
      d.option = Option{Option::kContinue, -1, -1, -1};
    } else if (kv.second == "fail") {
      d.option = Option{Option::kFail, -1, -1, -1};
    } else if (absl::ConsumePrefix(&kv.second, "run")) {
      std::pair<absl::string_view, absl::string_view> tv = absl::StrSplit(kv.second, absl::MaxSplits('@', 1));
      int vcpu = -1;
      if (!absl::SimpleAtoi(tv.first, &id) || (!tv.second.empty() && !absl::SimpleAtoi(tv.second, &vcpu))) {
        return bad("action must be cont, fail, run<task>[@<vcpu>] or irq<id>");
      }
      d.option = Option{Option::kRun, static_cast<int16_t>(id), -1, static_cast<int8_t>(vcpu)};
    } else if (absl::ConsumePrefix(&kv.second, "irq") && absl::SimpleAtoi(kv.second, &id)) {
      d.option = Option{Option::kInterrupt, -1, static_cast<int16_t>(id), -1};
    } else {
      return bad("action must be cont, fail, run<task>[@<vcpu>] or irq<id>");
    }
    if (!out.empty() && d.step < out.back().step) return bad("steps must not decrease");
    out.push_back(d);
  }
  return out;
}

}  // namespace reclaimfuzz::sched
