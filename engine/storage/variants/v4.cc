// SPDX-License-Identifier: MIT
// v4: upstream V4. Frees in the caller's context (kFreeNowOps), and RCU
// Tasks Trace on SRCU before the irq_work fix: call_rcu_tasks_trace() takes
// a spinlock_t, so under the scheduler's rq lock it is an invalid wait
// context (B3), and from NMI a context violation.
#include "engine/storage/model_variant.h"

namespace reclaimfuzz::storage {

extern const ModelVariant kModel_v4;
const ModelVariant kModel_v4 = {
    .free_ops = &kFreeNowOps,
    .trace_gp_start = rcu::Settings::TraceGpStart::kSrcuSpinlock,
};

}  // namespace reclaimfuzz::storage
