// SPDX-License-Identifier: MIT
// v4-srcu-fix: v4 with SRCU's irq_work fix: call_rcu_tasks_trace() starts
// its grace period through irq_work under a raw lock, so B3 is gone; an
// NMI delete still calls it.
#include "engine/storage/model_variant.h"

namespace reclaimfuzz::storage {

extern const ModelVariant kModel_v4_srcu_fix;
const ModelVariant kModel_v4_srcu_fix = {
    .free_ops = &kFreeNowOps,
    .trace_gp_start = rcu::Settings::TraceGpStart::kSrcuRawIrqWork,
};

}  // namespace reclaimfuzz::storage
