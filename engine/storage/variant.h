// SPDX-License-Identifier: MIT
// Engine variants. The registry (engine/variants.txt) names every variant,
// the model's and the real trees', with its description and its known
// findings; this header gives them to the C++ code.
//
// A model variant is a registry line and one file,
// engine/storage/variants/<ident>.cc: its differences from upstream V4
// behind the ops table of model_variant.h. The first five have named enum
// values below (tests refer to them); one added since takes the next free
// value, in registry order. See docs/ and the registry for what each is.
// A real tree's variant (engine/linux) is kFirstTree + its index in the
// generated list: the registry's trees, then the user's ('tree', ...).
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_VARIANT_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_VARIANT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/rcu/rcu.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::storage {

enum class Variant : uint8_t {
  kV4,
  kV4SrcuFix,
  kAlwaysDeferV1,
  kAlwaysDeferFixed,
  // always-defer-fixed with the map_free fix (MapFreeTasksTrace()).
  kAlwaysDeferFixedMapFreeFix,
  // Real trees: kFirstTree + i is the i-th tree of the generated list.
  kFirstTree = 32,
};

// The registered model variants, in registry order.
std::vector<Variant> ModelVariants();

// Every engine variant: the registry's (model and tree, built or not), then
// the user's trees of this build. The bug benchmark's variants are not among
// them (a campaign over every variant, the registry's tests and the clean
// checks leave them out): see BugVariants().
absl::Span<const Variant> AllVariants();

// The bug benchmark's variants (patches/bugs/bugs.txt), built or not: a
// registry tree variant with one injected bug each. ParseVariant() takes
// their names too.
absl::Span<const Variant> BugVariants();

// True for the real-tree variants.
inline bool IsRealTree(Variant v) { return v >= Variant::kFirstTree; }

// What the registry says of a variant.
struct VariantInfo {
  const char* name;                // "v4", "linux-6.12+map-free-fix", "tree"
  bool is_tree;                    // engine tree (engine/linux)
  bool built;                      // model: always; a tree: compiled into this build
  bool registered;                 // in engine/variants.txt (false: a user's tree)
  std::vector<std::string> known;  // the findings it is expected to have; empty: clean
  const char* about;               // one line
  // Bug variants (patches/bugs/bugs.txt): known holds the expected finding,
  // about what the bug breaks.
  bool bug = false;
  const char* bug_base = "";   // the registry variant it is injected into
  const char* bug_class = "";  // e.g. "rcu-flavour", "deferred-free"
};
const VariantInfo& Info(Variant v);

// The stable name ("v4", "linux-6.12", ...).
const char* VariantName(Variant v);
// The name as an identifier (every '-', '.', '+' made '_'): fuzz target
// names storage_<ident>_fuzz and their corpus folders use it.
std::string VariantIdent(Variant v);
absl::StatusOr<Variant> ParseVariant(absl::string_view name);

// The RCU settings the variant runs with (how Tasks Trace starts a GP).
rcu::Settings RcuSettingsFor(Variant v);

// The preemption model the variant's kernel is configured with: Debian's
// kernels are built with voluntary preemption; the model runs with full
// preemption, the widest set of interleavings.
sched::PreemptModel PreemptModelFor(Variant v);

// The model's map_free fix (docs/findings/map-free-use-after-free.md):
// map_free's loop frees the element and an emptied storage behind RCU Tasks
// Trace (reuse_now=false), not after one regular grace period.
bool MapFreeTasksTrace(Variant v);
// Whether destroy retries the storage lock until it has it
// (ModelVariant::destroy_waits_for_storage_lock).
bool DestroyWaitsForStorageLock(Variant v);

// The variant of the running execution (set by storage::Reset()).
Variant current_variant();

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_VARIANT_H_
