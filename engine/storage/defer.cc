// SPDX-License-Identifier: MIT
#include "engine/storage/defer.h"

#include "engine/kernel/context.h"
#include "engine/kernel/irq_work.h"
#include "engine/kernel/percpu.h"
#include "engine/kernel/workqueue.h"
#include "engine/sched/scheduler.h"
#include "engine/storage/model_variant.h"
#include "engine/storage/variant.h"

namespace reclaimfuzz::storage {
namespace {

using kernel::per_cpu_ptr;
using kernel::PerCpu;
using kernel::this_cpu_ptr;

// ============================================================================
// v4: free now, in the caller's context.
// ============================================================================

void free_now(hlist_head* selem_free_list, bpf_local_storage* local_storage, bool free_local_storage, bool reuse_now,
              FreeSite) {
  bpf_selem_free_list(selem_free_list, reuse_now);
  if (free_local_storage) bpf_local_storage_free(local_storage, reuse_now);
}

const LocalStorageFreeOps& Ops() { return *Model(current_variant()).free_ops; }

}  // namespace

const LocalStorageFreeOps kFreeNowOps = {
    .free_unlinked = &free_now,
    .selem_free = &bpf_selem_free,
    .storage_free = &bpf_local_storage_free,
    .deferred_flush = nullptr,
    .reset = nullptr,
    .num_deferred = nullptr,
};

void bpf_local_storage_free_unlinked(hlist_head* selem_free_list, bpf_local_storage* local_storage,
                                     bool free_local_storage, bool reuse_now, FreeSite site) {
  Ops().free_unlinked(selem_free_list, local_storage, free_local_storage, reuse_now, site);
}

void bpf_selem_free_helper(bpf_local_storage_elem* selem, bool reuse_now) { Ops().selem_free(selem, reuse_now); }

void bpf_local_storage_free_helper(bpf_local_storage* local_storage, bool reuse_now) {
  if (local_storage == nullptr) return;
  Ops().storage_free(local_storage, reuse_now);
}

void bpf_local_storage_deferred_flush() {
  if (void (*flush)() = Ops().deferred_flush) flush();
}

namespace defer {

void Reset() {
  if (void (*reset)() = Ops().reset) reset();
}

int NumDeferred(int cpu) {
  int (*n)(int) = Ops().num_deferred;
  return n != nullptr ? n(cpu) : 0;
}

}  // namespace defer
}  // namespace reclaimfuzz::storage
