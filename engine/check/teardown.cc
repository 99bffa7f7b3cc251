// SPDX-License-Identifier: MIT
#include "engine/check/teardown.h"

#include <cstdint>

#include "engine/check/accounting.h"
#include "engine/kernel/slab.h"
#include "engine/report/report.h"

namespace reclaimfuzz::check {

void CheckNoLostObjects() {
  // No heap objects here: Report() leaves this frame by longjmp.
  int64_t first = -1;
  size_t live = 0;
  const int64_t n = static_cast<int64_t>(kernel::slab::NumObjects());
  for (int64_t id = 0; id < n; ++id) {
    const kernel::slab::Object* o = kernel::slab::Get(id);
    if (o != nullptr && !o->freed) {
      if (first < 0) first = id;
      ++live;
    }
  }
  if (first < 0) return;
  const kernel::slab::Object* o = kernel::slab::Get(first);
  Report(kLostObject, first,
         "%zu object(s) still allocated after every owner was destroyed, every map freed and "
         "all grace periods, callbacks and work drained; the first is %s #%lld",
         live, o->type, static_cast<long long>(first));
}

void CheckTeardown() {
  CheckNoLostObjects();
  CheckAccountsBalanced();
}

}  // namespace reclaimfuzz::check
