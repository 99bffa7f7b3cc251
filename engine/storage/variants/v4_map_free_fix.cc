// SPDX-License-Identifier: MIT
// v4+map-free-fix: upstream V4 with the map_free fix
// (docs/findings/map-free-use-after-free.md): map_free's loop frees the
// element and an emptied storage behind RCU Tasks Trace (reuse_now=false),
// not after one regular grace period. The rest is v4's: Tasks Trace on
// SRCU before the irq_work fix (B3), call_rcu_tasks_trace() from an NMI
// delete.
#include "engine/storage/model_variant.h"

namespace reclaimfuzz::storage {

extern const ModelVariant kModel_v4_map_free_fix;
const ModelVariant kModel_v4_map_free_fix = {
    .free_ops = &kFreeNowOps,
    .trace_gp_start = rcu::Settings::TraceGpStart::kSrcuSpinlock,
    .map_free_tasks_trace = true,
};

}  // namespace reclaimfuzz::storage
