// SPDX-License-Identifier: MIT
#include "engine/storage/world.h"

#include "engine/kernel/context.h"
#include "engine/rcu/rcu.h"
#include "engine/storage/invariants.h"
#include "engine/storage/owners.h"

namespace reclaimfuzz::storage {
namespace world {
namespace {

OwnerEntry g_owners[kMaxOwners];
int g_num_owners = 0;
MapEntry g_maps[kMaxMaps];
int g_num_maps = 0;

bool TakeRelease(bool* released) { return !__atomic_exchange_n(released, true, __ATOMIC_ACQ_REL); }

// The programs that may have found the object before it was unpublished
// are all inside an RCU read section of one flavour or the other.
void WaitForPrograms() {
  kernel::synchronize_rcu_tasks_trace();
  if (!kernel::rcu_trace_implies_rcu_gp()) kernel::synchronize_rcu();
}

}  // namespace

void Reset() {
  for (OwnerEntry& e : g_owners) e = OwnerEntry{};
  for (MapEntry& e : g_maps) e = MapEntry{};
  g_num_owners = 0;
  g_num_maps = 0;
}

void AddOwner(OwnerKind kind, void* owner) {
  if (g_num_owners < kMaxOwners) g_owners[g_num_owners++] = OwnerEntry{kind, owner, false};
}

void AddMap(bpf_map* map) {
  if (g_num_maps < kMaxMaps) g_maps[g_num_maps++] = MapEntry{map, false};
}

int NumOwners() { return g_num_owners; }
const OwnerEntry& Owner(int i) { return g_owners[i]; }
int NumMaps() { return g_num_maps; }
const MapEntry& Map(int i) { return g_maps[i]; }

void* OwnerGet(int i) {
  if (i < 0 || i >= g_num_owners) return nullptr;
  OwnerEntry& e = g_owners[i];
  return __atomic_load_n(&e.released, __ATOMIC_ACQUIRE) ? nullptr : e.obj;
}

bpf_map* MapGet(int i) {
  if (i < 0 || i >= g_num_maps) return nullptr;
  MapEntry& e = g_maps[i];
  return __atomic_load_n(&e.released, __ATOMIC_ACQUIRE) ? nullptr : e.map;
}

void ReleaseOwner(int i, bool wait_for_programs) {
  OwnerEntry& e = g_owners[i];
  if (!TakeRelease(&e.released)) return;
  if (wait_for_programs) WaitForPrograms();
  switch (e.kind) {
    case OwnerKind::kTask:
      put_task_struct(static_cast<task_struct*>(e.obj));
      break;
    case OwnerKind::kSk:
      sock_put(static_cast<sock*>(e.obj));
      break;
    case OwnerKind::kInode:
      iput(static_cast<inode*>(e.obj));
      break;
    case OwnerKind::kCgroup:
      cgroup_kill(static_cast<cgroup*>(e.obj));
      break;
  }
}

void ReleaseMap(int i, bool wait_for_programs) {
  MapEntry& e = g_maps[i];
  if (!TakeRelease(&e.released)) return;
  if (wait_for_programs) WaitForPrograms();
  // map->ops->map_free(map): task_storage_map_free() and friends.
  bpf_local_storage_map_free(e.map, e.map->ops->cache);
}

void FreeOwners() {
  for (int i = 0; i < g_num_owners; ++i) kernel::kfree(g_owners[i].obj);
}

}  // namespace world

bpf_map* CreateMap(const MapSpec& spec) {
  if (world::NumMaps() >= world::kMaxMaps) return nullptr;
  btf_record rec{spec.spin_lock, spec.kptr};
  u32 words = spec.value_words;
  if (words < 2 && (spec.spin_lock || spec.kptr)) words = 2;
  if (words == 0) words = 1;
  bpf_local_storage_map* smap = bpf_local_storage_map_alloc(words * 8, spec.map_flags, rec, owner_map_ops(spec.owner));
  if (smap == nullptr) return nullptr;
  world::AddMap(&smap->map);
  return &smap->map;
}

}  // namespace reclaimfuzz::storage
