// SPDX-License-Identifier: MIT
#include "engine/storage/variant.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/storage/model_variant.h"

namespace reclaimfuzz::storage {
namespace {

struct Registry {
  std::vector<Variant> all;
  std::vector<Variant> bugs;
  std::vector<VariantInfo> model;  // by enum value
  std::vector<VariantInfo> trees;  // by index from kFirstTree
};

std::vector<std::string> KnownList(const char* known) {
  std::vector<std::string> out;
  for (absl::string_view k : absl::StrSplit(known, ',', absl::SkipEmpty())) {
    if (k != "none") out.emplace_back(k);
  }
  return out;
}

const char* const kModelNames[] = {"v4", "v4-srcu-fix", "always-defer-v1", "always-defer-fixed",
                                   "always-defer-fixed+map-free-fix"};

const Registry& Get() {
  static const Registry* r = [] {
    auto* reg = new Registry;
    reg->model.resize(std::size(kModelNames));
    for (size_t i = 0; i < std::size(kModelNames); ++i) {
      // A model variant the registry lacks still has a name (the registry
      // test fails on it).
      reg->model[i] = VariantInfo{kModelNames[i], false, true, false, {}, "not in engine/variants.txt"};
    }
    struct Row {
      const char* name;
      int is_tree, built, registered;
      const char* known;
      const char* about;
      int is_bug;
      const char* bug_base;
      const char* bug_class;
    };
    static const Row rows[] = {
#define RF_VARIANT(name, is_tree, built, registered, known, about, is_bug, bug_base, bug_class) \
  {name, is_tree, built, registered, known, about, is_bug, bug_base, bug_class},
#include "rf_variants.inc"
#undef RF_VARIANT
    };
    for (const Row& row : rows) {
      VariantInfo info{row.name,  row.is_tree != 0, row.built != 0, row.registered != 0, KnownList(row.known),
                       row.about, row.is_bug != 0,  row.bug_base,   row.bug_class};
      if (info.is_tree) {
        const Variant v = static_cast<Variant>(static_cast<int>(Variant::kFirstTree) + reg->trees.size());
        (info.bug ? reg->bugs : reg->all).push_back(v);
        reg->trees.push_back(std::move(info));
        continue;
      }
      // A model variant with a named enum value keeps it; one added since
      // (a registry line and its engine/storage/variants/ file) takes the
      // next free value.
      size_t i = 0;
      while (i < std::size(kModelNames) && absl::string_view(row.name) != kModelNames[i]) ++i;
      if (i == std::size(kModelNames)) {
        i = reg->model.size();
        reg->model.emplace_back();
      }
      reg->model[i] = std::move(info);
      reg->all.push_back(static_cast<Variant>(i));
    }
    return reg;
  }();
  return *r;
}

}  // namespace

absl::Span<const Variant> AllVariants() { return Get().all; }

std::vector<Variant> ModelVariants() {
  std::vector<Variant> out;
  for (Variant v : AllVariants()) {
    if (!IsRealTree(v)) out.push_back(v);
  }
  return out;
}

absl::Span<const Variant> BugVariants() { return Get().bugs; }

const VariantInfo& Info(Variant v) {
  const Registry& r = Get();
  if (IsRealTree(v)) return r.trees.at(static_cast<int>(v) - static_cast<int>(Variant::kFirstTree));
  return r.model.at(static_cast<int>(v));
}

const char* VariantName(Variant v) { return Info(v).name; }

std::string VariantIdent(Variant v) {
  std::string s = VariantName(v);
  for (char& c : s) {
    if (c == '-' || c == '.' || c == '+') c = '_';
  }
  return s;
}

absl::StatusOr<Variant> ParseVariant(absl::string_view name) {
  for (Variant v : AllVariants()) {
    if (name == VariantName(v)) return v;
  }
  for (Variant v : BugVariants()) {
    if (name == VariantName(v)) return v;
  }
  std::string known;
  for (Variant v : AllVariants()) absl::StrAppend(&known, known.empty() ? "" : ", ", VariantName(v));
  return absl::InvalidArgumentError(absl::StrCat("unknown variant '", name, "' (known: ", known, ")"));
}

rcu::Settings RcuSettingsFor(Variant v) {
  rcu::Settings s;
  s.trace_implies_rcu_gp = true;
  if (IsRealTree(v)) {
    // Before v7.0 Tasks Trace is not on SRCU: call_rcu_tasks_trace() takes
    // a raw lock and wakes its kthread through irq_work, and its grace
    // period ends with synchronize_rcu() (rcu_tasks_trace_postscan).
    s.trace_gp_start = rcu::Settings::TraceGpStart::kSrcuRawIrqWork;
    return s;
  }
  s.trace_gp_start = Model(v).trace_gp_start;
  return s;
}

sched::PreemptModel PreemptModelFor(Variant v) {
  return IsRealTree(v) ? sched::PreemptModel::kVoluntary : sched::PreemptModel::kFull;
}

bool MapFreeTasksTrace(Variant v) { return Model(v).map_free_tasks_trace; }
bool DestroyWaitsForStorageLock(Variant v) { return Model(v).destroy_waits_for_storage_lock; }

}  // namespace reclaimfuzz::storage
