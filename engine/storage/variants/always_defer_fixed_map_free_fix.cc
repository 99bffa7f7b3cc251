// SPDX-License-Identifier: MIT
// always-defer-fixed+map-free-fix: always-defer-fixed with the map_free fix
// (docs/findings/map-free-use-after-free.md): map_free's loop frees the
// element and an emptied storage behind RCU Tasks Trace (reuse_now=false),
// not after one regular grace period; and destroy waits for the storage
// lock instead of leaking an element whose lock timed out
// (docs/findings/destroy-timeout-leak.md). Expected clean.
#include "engine/storage/model_variant.h"

namespace reclaimfuzz::storage {

extern const LocalStorageFreeOps kAlwaysDeferFixedOps;

extern const ModelVariant kModel_always_defer_fixed_map_free_fix;
const ModelVariant kModel_always_defer_fixed_map_free_fix = {
    .free_ops = &kAlwaysDeferFixedOps,
    .trace_gp_start = rcu::Settings::TraceGpStart::kSrcuRawIrqWork,
    .map_free_tasks_trace = true,
    .destroy_waits_for_storage_lock = true,
};

}  // namespace reclaimfuzz::storage
