// SPDX-License-Identifier: MIT
// The objects of one execution: the maps and owners a harness created, so
// that teardown can destroy every owner and free every map, and so that
// programs can name them by index.
//
// Bookkeeping, not model memory: entries are written in the main context
// before Run() (or by the task that creates an object) and read by tasks;
// the release flags are exchanged atomically with no preemption point, so
// an object is released once even if a program and teardown race for it.
//
// Lifetime contract (the kernel's): destroy and map_free never run while a
// program still uses the owner or the map. Programs that may run while
// objects are released reach them through OwnerGet()/MapGet(); the release
// waits for the programs that may have found them.
#ifndef RECLAIMFUZZ_ENGINE_STORAGE_WORLD_H_
#define RECLAIMFUZZ_ENGINE_STORAGE_WORLD_H_

#include "engine/storage/bpf_local_storage.h"

namespace reclaimfuzz::storage {

// What a map holds: the value's size in 8-byte words and its special fields.
struct MapSpec {
  OwnerKind owner = OwnerKind::kTask;
  u32 value_words = 4;
  bool spin_lock = false;  // a bpf_spin_lock in word 0 (BPF_F_LOCK updates)
  bool kptr = false;       // a kptr in word 1 (freed by bpf_obj_free_fields)
  u32 map_flags = 0;
};

// bpf_map_create() for a local-storage map of spec.owner. Main context or
// process context. NULL when out of objects or past kMaxMaps.
bpf_map* CreateMap(const MapSpec& spec);

namespace world {

// MODEL: more maps than cache slots (16), so that slots are shared.
inline constexpr int kMaxMaps = 24;
inline constexpr int kMaxOwners = 32;

struct OwnerEntry {
  OwnerKind kind;
  void* obj;
  bool released;
};

struct MapEntry {
  bpf_map* map;
  bool released;
};

void Reset();
void AddOwner(OwnerKind kind, void* owner);
void AddMap(bpf_map* map);

int NumOwners();
const OwnerEntry& Owner(int i);
int NumMaps();
const MapEntry& Map(int i);

// What a program uses to reach an owner or a map it did not get from a
// helper: NULL once the object is released. Call inside a program (an RCU
// read section): a release waits for every program that may have found the
// object (pid_task()/bpf_map_get() under RCU, and program references, in
// the kernel). No preemption point.
void* OwnerGet(int i);
bpf_map* MapGet(int i);

// Drops the owner's last reference: it is unpublished (OwnerGet() returns
// NULL), then, with wait_for_programs, a Tasks Trace grace period (which
// implies a regular one) lets every program that may still use it finish;
// then the owner is dying and its free hook destroys its storage. Process
// context; sleeps. A second release is a no-op.
// Without wait_for_programs the caller guarantees that no program uses the
// owner: destroy must never run concurrently with one (docs/kernel-model.md
// §2.5: no program, sleepable or not, can hold a dying owner).
void ReleaseOwner(int i, bool wait_for_programs = true);
// Drops the map's last reference: unpublished, the same wait, then
// bpf_local_storage_map_free() in the calling task. Process context; sleeps.
// MODEL: the kernel runs map_free from a workqueue once the programs' map
// references are gone; the wait stands for those references.
void ReleaseMap(int i, bool wait_for_programs = true);

// Frees the owners' memory (teardown, once nothing can reach them).
void FreeOwners();

}  // namespace world
}  // namespace reclaimfuzz::storage

#endif  // RECLAIMFUZZ_ENGINE_STORAGE_WORLD_H_
