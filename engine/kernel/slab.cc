// SPDX-License-Identifier: MIT
#include "engine/kernel/slab.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/kernel/context.h"
#include "engine/report/report.h"
#include "engine/sched/coverage.h"
#include "engine/sched/scheduler.h"
#include "engine/sched/tsan_annotations.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define RF_POISON(p, n) __asan_poison_memory_region((p), (n))
#define RF_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#endif
#endif
#ifndef RF_POISON
#define RF_POISON(p, n) ((void)(p), (void)(n))
#define RF_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace reclaimfuzz::kernel {
namespace slab {
namespace {

struct Registry {
  std::vector<Object> objects;  // by id; reserved to the budget
  size_t max_objects = kDefaultMaxObjects;
  // Live pointer -> id, open addressing (no allocation after Reset).
  std::vector<const void*> keys;
  std::vector<int64_t> vals;
  std::vector<size_t> used_slots;
  // Blocks for handler-context allocations.
  void* reserve[kReserveBlocks] = {};
  size_t reserve_n = 0;
  // Frees deferred out of handler context.
  void* deferred[kReserveBlocks * 2] = {};
  size_t deferred_n = 0;
  FreeHook free_hook = nullptr;
  void* pending_free = nullptr;  // a free the free hook's report stopped
};

Registry& R() {
  static Registry* r = new Registry();  // never destroyed: used until exit
  return *r;
}

constexpr size_t kAlign = 64;

const void* const kTombstone = reinterpret_cast<const void*>(1);

RF_NO_COVERAGE size_t Slot(const void* p, size_t mask) {
  uint64_t h = reinterpret_cast<uintptr_t>(p);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h & mask;
}

RF_NO_COVERAGE void TableInsert(const void* p, int64_t id) {
  Registry& r = R();
  const size_t mask = r.keys.size() - 1;
  for (size_t s = Slot(p, mask);; s = (s + 1) & mask) {
    if (r.keys[s] == nullptr || r.keys[s] == kTombstone) {
      if (r.keys[s] == nullptr && r.used_slots.size() < r.used_slots.capacity()) r.used_slots.push_back(s);
      r.keys[s] = p;
      r.vals[s] = id;
      return;
    }
  }
}

RF_NO_COVERAGE int64_t TableFind(const void* p, bool erase) {
  Registry& r = R();
  if (r.keys.empty()) return -1;
  const size_t mask = r.keys.size() - 1;
  for (size_t s = Slot(p, mask), n = 0; n < r.keys.size(); s = (s + 1) & mask, ++n) {
    if (r.keys[s] == nullptr) return -1;
    if (r.keys[s] == p) {
      const int64_t id = r.vals[s];
      if (erase) r.keys[s] = kTombstone;
      return id;
    }
  }
  return -1;
}

bool InHandler() {
  sched::Scheduler* s = sched::Scheduler::Current();
  return s != nullptr && s->current_depth() > 0;
}

RF_NO_COVERAGE void DrainDeferred() {
  Registry& r = R();
  for (size_t i = 0; i < r.deferred_n; ++i) {
    tsan::Acquire(r.deferred[i]);
    free(r.deferred[i]);
  }
  r.deferred_n = 0;
}

RF_NO_COVERAGE void RefillReserve() {
  Registry& r = R();
  while (r.reserve_n < kReserveBlocks) {
    void* p = nullptr;
    if (posix_memalign(&p, kAlign, kReserveBlockSize) != 0) p = nullptr;
    tsan::Release(p);  // a handler on another task's stack takes it: see Allocate()
    r.reserve[r.reserve_n++] = p;
  }
}

void* Allocate(size_t size, bool nolock, const char* type, const char* site) {
  Registry& r = R();
  if (r.keys.empty()) Reset();
  if (size == 0) size = 1;
  if (r.objects.size() >= r.max_objects) return nullptr;
  void* p = nullptr;
  if (InHandler()) {
    if (size > kReserveBlockSize || r.reserve_n == 0) return nullptr;
    p = r.reserve[--r.reserve_n];
    tsan::Acquire(p);  // ordered after the malloc() of the task that refilled the reserve
    RF_UNPOISON(p, kReserveBlockSize);
    memset(p, 0, size);
  } else {
    DrainDeferred();
    RefillReserve();
    // 64-byte aligned, as the kernel's slabs for these sizes are: real-tree
    // structures are ____cacheline_aligned and UBSan checks alignment.
    if (posix_memalign(&p, kAlign, size) != 0) return nullptr;
    memset(p, 0, size);
  }
  sched::Scheduler* s = sched::Scheduler::Current();
  Object o;
  o.id = static_cast<int64_t>(r.objects.size());
  o.ptr = p;
  o.size = size;
  o.type = type;
  o.alloc_site = site;
  o.alloc_step = s ? s->step() : 0;
  o.alloc_task = s ? s->current_task() : -1;
  o.nolock = nolock;
  r.objects.push_back(o);  // capacity reserved: never reallocates here
  TableInsert(p, o.id);
  if (s) s->Note(nolock ? "kmalloc_nolock" : "kzalloc", o.id, site);
  return p;
}

void Free(const void* p, bool nolock, const char* site) {
  if (p == nullptr) return;
  Registry& r = R();
  const int64_t id = TableFind(p, /*erase=*/true);
  if (id < 0) {
    // Not live: freed before, or never ours.
    for (const Object& o : r.objects) {
      if (o.ptr == p && o.freed) {
        check::Report(check::kDoubleFree, o.id, "%s of %s #%lld, already freed by %s at step %llu",
                      nolock ? "kfree_nolock" : "kfree", o.type, static_cast<long long>(o.id), o.free_site,
                      static_cast<unsigned long long>(o.free_step));
      }
    }
    check::Report(check::kDoubleFree, -1, "%s of a pointer the allocator never returned",
                  nolock ? "kfree_nolock" : "kfree");
  }
  sched::Scheduler* s = sched::Scheduler::Current();
  Object& o = r.objects[id];
  o.freed = true;
  o.free_site = site;
  o.free_step = s ? s->step() : 0;
  o.free_task = s ? s->current_task() : -1;
  o.free_depth = s ? s->current_depth() : 0;
  if (s) s->Note(nolock ? "kfree_nolock" : "kfree", id, site);
  void* mp = const_cast<void*>(p);
  // The oracles look at the free before it happens: a report stops the
  // execution while the memory is still intact, so the stale access that
  // would follow (and a sanitizer report about it) never happens. The
  // object is then really freed by the next Reset().
  if (r.free_hook != nullptr) {
    r.pending_free = mp;
    r.free_hook(id);
    r.pending_free = nullptr;
  }
  if (InHandler()) {
    // Unreadable at once; the real free() waits for task context.
    RF_POISON(mp, o.size);
    if (r.deferred_n < sizeof(r.deferred) / sizeof(r.deferred[0])) {
      tsan::Release(mp);  // the task that drains it frees what this handler freed
      r.deferred[r.deferred_n++] = mp;
    }  // else: kept poisoned until ReleaseAll (bounded by the reserve anyway)
  } else {
    DrainDeferred();
    free(mp);
  }
}

}  // namespace

RF_NO_COVERAGE void Reset(size_t max_objects) {
  Registry& r = R();
  ReleaseAll();
  r.max_objects = max_objects;
  r.objects.clear();
  r.objects.reserve(max_objects);
  size_t table = 16;
  while (table < 2 * max_objects) table <<= 1;
  if (r.keys.size() != table) {
    r.keys.assign(table, nullptr);
    r.vals.assign(table, -1);
    r.used_slots.clear();
    r.used_slots.reserve(table);
  }
  RefillReserve();
  check::SetObjectDescriber(&Describe);
}

RF_NO_COVERAGE void ReleaseAll() {
  Registry& r = R();
  DrainDeferred();
  free(r.pending_free);
  r.pending_free = nullptr;
  for (Object& o : r.objects) {
    if (!o.freed) {
      free(const_cast<void*>(o.ptr));
      o.freed = true;
    }
  }
  for (size_t s : r.used_slots) r.keys[s] = nullptr;
  r.used_slots.clear();
}

int64_t IdOf(const void* p) { return TableFind(p, /*erase=*/false); }

RF_NO_COVERAGE int64_t IdContaining(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  for (const Object& o : R().objects) {
    const auto b = reinterpret_cast<uintptr_t>(o.ptr);
    if (!o.freed && a >= b && a < b + o.size) return o.id;
  }
  return -1;
}

RF_NO_COVERAGE int64_t IdOfAnyContaining(const void* p) {
  const Registry& r = R();
  const char* c = static_cast<const char*>(p);
  for (size_t i = r.objects.size(); i-- > 0;) {
    const Object& o = r.objects[i];
    const char* base = static_cast<const char*>(o.ptr);
    if (c >= base && c < base + o.size) return o.id;
  }
  return -1;
}

RF_NO_COVERAGE int64_t FreedIdContaining(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  const std::vector<Object>& objects = R().objects;
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    const auto b = reinterpret_cast<uintptr_t>(it->ptr);
    if (it->freed && a >= b && a < b + it->size) return it->id;
  }
  return -1;
}

const Object* Get(int64_t id) {
  Registry& r = R();
  if (id < 0 || static_cast<size_t>(id) >= r.objects.size()) return nullptr;
  return &r.objects[id];
}

size_t NumObjects() { return R().objects.size(); }

std::vector<int64_t> LiveIds() {
  std::vector<int64_t> out;
  for (const Object& o : R().objects) {
    if (!o.freed) out.push_back(o.id);
  }
  return out;
}

std::string Describe(int64_t id) {
  const Object* o = Get(id);
  if (o == nullptr) return "";
  sched::Scheduler* s = sched::Scheduler::Current();
  auto task_name = [&](int t) -> std::string {
    if (s != nullptr && t >= 0 && t < s->num_tasks()) return s->task(t).name;
    return "main";
  };
  std::string out = absl::StrCat(o->type, " #", o->id, " (", o->size, " bytes, ",
                                 o->nolock ? "kmalloc_nolock" : "kzalloc", ")\n  allocated by ", o->alloc_site,
                                 " at step ", o->alloc_step, " in ", task_name(o->alloc_task), "\n");
  if (o->freed) {
    absl::StrAppend(&out, "  freed by ", o->free_site, " at step ", o->free_step, " in ", task_name(o->free_task),
                    o->free_depth == 2   ? " (NMI)"
                    : o->free_depth == 1 ? " (hardirq)"
                                         : "",
                    "\n");
  } else {
    absl::StrAppend(&out, "  still live\n");
  }
  return out;
}

void SetFreeHook(FreeHook hook) { R().free_hook = hook; }

}  // namespace slab

void* kzalloc(size_t size, gfp_t flags, const char* type, const char* site) {
  assert_not_nmi("kzalloc()");
  if (flags & GFP_KERNEL) might_sleep("kzalloc(GFP_KERNEL)");
  return slab::Allocate(size, /*nolock=*/false, type, site);
}

void kfree(const void* p, const char* site) {
  assert_not_nmi("kfree()");
  slab::Free(p, /*nolock=*/false, site);
}

void* kmalloc_nolock(size_t size, gfp_t flags, int node, const char* type, const char* site) {
  (void)flags;
  (void)node;
  return slab::Allocate(size, /*nolock=*/true, type, site);
}

void kfree_nolock(const void* p, const char* site) { slab::Free(p, /*nolock=*/true, site); }

}  // namespace reclaimfuzz::kernel
