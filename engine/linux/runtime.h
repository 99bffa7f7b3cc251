/* SPDX-License-Identifier: MIT */
// The C++ side of the real-tree engine's runtime (runtime.cc, mem_alloc.cc).
#ifndef RECLAIMFUZZ_ENGINE_LINUX_RUNTIME_H_
#define RECLAIMFUZZ_ENGINE_LINUX_RUNTIME_H_

namespace reclaimfuzz::linux_tree {

// Starts an execution: every vCPU's copy of the per-CPU section is reset
// from the pristine image, read-section bookkeeping is cleared, the trees'
// initcalls run (as at boot), and the bpf_mem_alloc caches of the last
// execution are forgotten. Call after the machine's Reset().
void ResetRuntime(int num_vcpus);
void ResetMemAlloc();

// The tasks pidfd_get_pid()/pid_task() find: tasks[i] is pidfd i (nullptr
// once it exited). The harness owns the table; it must outlive the run.
void SetTaskTable(void* const* tasks, int n);

// Whether allocations the kernel may fail (GFP_ATOMIC/GFP_NOWAIT,
// kmalloc_nolock, bpf_mem_alloc refills) are a schedule choice.
void SetAllocationFailure(bool on);
// A point offering "fail" when allocation failure is on: true to fail.
bool AllocationMayFail(const char* what);

}  // namespace reclaimfuzz::linux_tree

#endif  // RECLAIMFUZZ_ENGINE_LINUX_RUNTIME_H_
