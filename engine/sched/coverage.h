// SPDX-License-Identifier: MIT
// RF_NO_COVERAGE: a function the fuzzer's coverage instrumentation leaves
// out. For the engine's bookkeeping whose path depends on something other
// than the input being run: the allocator registry's pointer-keyed table
// and address-range lookups (heap addresses move with ASLR and with what
// earlier inputs allocated), and the teardown of the previous execution at
// the start of the next. Their edges and hit counts would otherwise make an
// input's features depend on the inputs run before it in the same process,
// so libFuzzer would keep inputs for noise and a merge could not keep every
// feature of a corpus (tools/campaign_resume_test.cc measures that).
#ifndef RECLAIMFUZZ_ENGINE_SCHED_COVERAGE_H_
#define RECLAIMFUZZ_ENGINE_SCHED_COVERAGE_H_

#define RF_NO_COVERAGE __attribute__((no_sanitize("coverage")))

#endif  // RECLAIMFUZZ_ENGINE_SCHED_COVERAGE_H_
