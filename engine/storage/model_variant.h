// SPDX-License-Identifier: MIT
// A model variant: what it changes in the upstream V4 code, behind an ops
// table (the owners' bpf_map_ops idiom), so that the shared functions of
// bpf_local_storage*.cc stay diffable against the kernel and a variant is
// one file.
//
// Each model line of the registry (engine/variants.txt) has its file
// engine/storage/variants/<ident>.cc (the name with every '-', '.', '+'
// made '_'), which defines `const ModelVariant kModel_<ident>`; the build
// compiles the file of every registered model variant and fails naming
// the file when one is missing (engine/storage/CMakeLists.txt), and
// storage::Model(v) finds it.
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_MODEL_VARIANT_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_MODEL_VARIANT_H_

#include "engine/rcu/rcu.h"
#include "engine/storage/bpf_local_storage.h"
#include "engine/storage/defer.h"
#include "engine/storage/variant.h"

namespace reclaimfuzz::storage {

// How a helper path frees what it unlinked, once its locks are released
// (defer.h's entry points dispatch here).
struct LocalStorageFreeOps {
  void (*free_unlinked)(hlist_head* selem_free_list, bpf_local_storage* local_storage, bool free_local_storage,
                        bool reuse_now, FreeSite site);
  void (*selem_free)(bpf_local_storage_elem* selem, bool reuse_now);
  void (*storage_free)(bpf_local_storage* local_storage, bool reuse_now);
  // map_free, before its barriers: waits until deferred frees were handed
  // to bpf_selem_free()/bpf_local_storage_free(); nullptr: nothing to wait.
  void (*deferred_flush)();
  // Starts an execution (per-CPU lists and flags); nullptr: nothing.
  void (*reset)();
  // Objects sitting on a deferred list of `cpu` right now; nullptr: none.
  int (*num_deferred)(int cpu);
};

struct ModelVariant {
  const LocalStorageFreeOps* free_ops;
  // How call_rcu_tasks_trace() starts a grace period in the kernel this
  // variant models (engine/rcu/rcu.h).
  rcu::Settings::TraceGpStart trace_gp_start;
  // map_free frees its elements and emptied storages behind RCU Tasks
  // Trace (reuse_now=false) instead of one regular grace period
  // (docs/findings/map-free-use-after-free.md).
  bool map_free_tasks_trace = false;
  // destroy retries local_storage->lock until it has it, instead of leaving
  // the element half unlinked when the lock times out: only map_free can
  // hold it then, briefly, and destroy holds no other lock
  // (docs/findings/destroy-timeout-leak.md).
  bool destroy_waits_for_storage_lock = false;
};

// The model variant `v` (engine/storage/variants/); for a real tree, which
// never runs the model's code, V4's free path.
const ModelVariant& Model(Variant v);

// The upstream free path (v4): bpf_selem_free()/bpf_local_storage_free()
// now, in the caller's context, with the caller's reuse_now.
extern const LocalStorageFreeOps kFreeNowOps;

}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_MODEL_VARIANT_H_
