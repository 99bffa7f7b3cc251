// SPDX-License-Identifier: MIT
// Engine variants (DESIGN §1): which version of the local-storage free path
// the model runs. One build holds all four; an execution selects one by its
// stable name.
//
//   v4                  upstream V4 (kernel-model §2) with RCU Tasks Trace on
//                       SRCU before the irq_work fix: call_rcu_tasks_trace()
//                       takes a spinlock_t in the caller (B3).
//   v4-srcu-fix         v4 with "rcu: Use an intermediate irq_work to start
//                       process_srcu()": raw SRCU lock, GP started from irq_work.
//   always-defer-v1     v4 plus "bpf: Always defer local storage free" as
//                       posted: per-CPU hlists filled after unlock with IRQs
//                       on, call_rcu + queue_work_on, work frees with
//                       reuse_now=true (B1, B2).
//   always-defer-fixed  the patch done right: per-CPU llists, the per-item
//                       reuse_now kept, an irq_work trampoline out of NMI.
//
// The differences live in defer.{h,cc}; everything else is shared.
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_VARIANT_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_VARIANT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/rcu/rcu.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::storage {

enum class Variant : uint8_t {
  kV4,
  kV4SrcuFix,
  kAlwaysDeferV1,
  kAlwaysDeferFixed,
  // Real trees (engine/linux): Debian's linux-source-6.1 and -6.12, their
  // own bpf_local_storage.c and bpf_task_storage.c compiled against the shim.
  kLinux61,
  kLinux612,
  // The user's tree (tools/reclaimfuzz --kernel-tree DIR|linux-X.Y, with
  // its --patch files applied): "tree".
  kUserTree,
};

inline constexpr Variant kAllVariants[] = {Variant::kV4,       Variant::kV4SrcuFix,
                                           Variant::kAlwaysDeferV1, Variant::kAlwaysDeferFixed,
                                           Variant::kLinux61,  Variant::kLinux612,
                                           Variant::kUserTree};
inline constexpr Variant kModelVariants[] = {Variant::kV4, Variant::kV4SrcuFix,
                                             Variant::kAlwaysDeferV1, Variant::kAlwaysDeferFixed};

// True for the real-tree variants.
inline bool IsRealTree(Variant v) {
  return v == Variant::kLinux61 || v == Variant::kLinux612 || v == Variant::kUserTree;
}

// The stable name ("v4", "v4-srcu-fix", "always-defer-v1", "always-defer-fixed").
const char* VariantName(Variant v);
// The name as an identifier ("linux-6.12" -> "linux_6_12"): fuzz target
// names storage_<ident>_fuzz and their corpus folders use it.
std::string VariantIdent(Variant v);
absl::StatusOr<Variant> ParseVariant(absl::string_view name);

// The RCU settings the variant runs with (how Tasks Trace starts a GP).
rcu::Settings RcuSettingsFor(Variant v);

// The preemption model the variant's kernel is configured with: Debian's
// kernels are built with voluntary preemption; the model runs with full
// preemption, the widest set of interleavings.
sched::PreemptModel PreemptModelFor(Variant v);

// The variant of the running execution (set by storage::Reset()).
Variant current_variant();

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_VARIANT_H_
