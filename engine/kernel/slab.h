// SPDX-License-Identifier: MIT
// The allocators: kzalloc/kfree and kmalloc_nolock/kfree_nolock
// (include/linux/slab.h), with a registry the oracles read.
//
// Memory is real: an object is malloc'd and free'd, so under ASan a stale
// dereference is a heap-use-after-free report with both stacks, and the
// registry adds the model's own allocation and free sites and steps.
//
// Context rules, the kernel's:
//   kmalloc_nolock/kfree_nolock  any context, including NMI;
//   kzalloc/kmalloc/kfree        not from NMI (context-violation);
//   GFP_KERNEL                   may sleep (might_sleep).
// Signal safety: inside an interrupt handler nothing touches the C++ heap.
// Allocations come from a reserve of blocks malloc'd beforehand in task
// context; frees poison the object at once and defer the real free() until
// the next allocator call in task context.
//
// Determinism: objects are identified by ids in allocation order, never by
// address.
#ifndef RECLAIMFUZZ_ENGINE_KERNEL_SLAB_H_
#define RECLAIMFUZZ_ENGINE_KERNEL_SLAB_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reclaimfuzz::kernel {

using gfp_t = unsigned;
inline constexpr gfp_t GFP_ATOMIC = 1u << 0;
inline constexpr gfp_t GFP_KERNEL = 1u << 1;
inline constexpr gfp_t GFP_NOWAIT = 1u << 2;
inline constexpr gfp_t __GFP_ZERO = 1u << 3;
inline constexpr int NUMA_NO_NODE = -1;

// `type` names the object kind in reports; `site` defaults to the caller.
void* kzalloc(size_t size, gfp_t flags, const char* type = "object", const char* site = __builtin_FUNCTION());
void kfree(const void* p, const char* site = __builtin_FUNCTION());
void* kmalloc_nolock(size_t size, gfp_t flags, int node, const char* type = "object",
                     const char* site = __builtin_FUNCTION());
void kfree_nolock(const void* p, const char* site = __builtin_FUNCTION());

namespace slab {

// MODEL: the per-execution object budget; past it allocations fail (NULL),
// as the kernel's may.
inline constexpr size_t kDefaultMaxObjects = 4096;
// Reserve for allocations inside interrupt handlers.
inline constexpr size_t kReserveBlocks = 64;
inline constexpr size_t kReserveBlockSize = 1024;

struct Object {
  int64_t id = -1;
  const void* ptr = nullptr;  // identity only; never dereferenced after free
  size_t size = 0;
  const char* type = "";
  const char* alloc_site = "";
  uint64_t alloc_step = 0;
  int alloc_task = -1;
  bool nolock = false;
  bool freed = false;
  const char* free_site = "";
  uint64_t free_step = 0;
  int free_task = -1;
  int free_depth = 0;
};

// Starts an execution: really frees what the last one left behind (after
// its checks), forgets the registry, refills the reserve.
void Reset(size_t max_objects = kDefaultMaxObjects);
// Frees every live object without checks (process teardown, tests).
void ReleaseAll();

int64_t IdOf(const void* p);          // the live object starting at p, or -1
int64_t IdContaining(const void* p);  // the live object containing p, or -1
// The newest object, live or freed, whose memory contained p, or -1: what
// a sanitizer's stale access touched (its allocation and free sites).
int64_t IdOfAnyContaining(const void* p);
// The object of this execution that contained p and was freed, the latest
// such if its memory was reused (a stale pointer's target), or -1.
int64_t FreedIdContaining(const void* p);
const Object* Get(int64_t id);
size_t NumObjects();  // allocated this execution
std::vector<int64_t> LiveIds();
// "type #id: allocated by SITE at step N (task T); freed by SITE at step M (task U)".
std::string Describe(int64_t id);

// Called for each free with the object's id, once the registry marks it
// freed and before its memory is released (oracles).
using FreeHook = void (*)(int64_t id);
void SetFreeHook(FreeHook hook);

}  // namespace slab
}  // namespace reclaimfuzz::kernel

#endif  // RECLAIMFUZZ_ENGINE_KERNEL_SLAB_H_
