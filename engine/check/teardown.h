// SPDX-License-Identifier: MIT
// The end-of-execution checks (docs/design.md §4, lost-object and accounting).
//
// Run them after every owner was destroyed, every map freed and the machine
// drained (grace periods, callbacks, work, irq_work): then every object the
// allocator handed out must have been freed exactly once (a second free is
// reported by the allocator when it happens), and every charge returned.
// Call from the main context inside Scheduler::GuardMain(), or from a task.
#ifndef RECLAIMFUZZ_ENGINE_CHECK_TEARDOWN_H_
#define RECLAIMFUZZ_ENGINE_CHECK_TEARDOWN_H_

namespace reclaimfuzz::check {

// Reports lost-object for the first object still live.
void CheckNoLostObjects();
// CheckNoLostObjects(), then CheckAccountsBalanced().
void CheckTeardown();

}  // namespace reclaimfuzz::check

#endif  // RECLAIMFUZZ_ENGINE_CHECK_TEARDOWN_H_
