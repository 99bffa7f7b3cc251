// SPDX-License-Identifier: MIT
// The reclamation oracles (docs/design.md §4): early-free and reader-saw-freed.
//
// early-free. When the model makes an object unreachable for new readers
// (unlinks it), it tells the oracle who may still hold a pointer to it:
// regular RCU readers only, or any BPF program including sleepable ones
// (docs/kernel-model.md §4, "Model rules"). The oracle takes a polled grace-period
// cookie of each domain the object needs. When the allocator frees the
// object (slab free hook), the oracle reports early-free unless every
// required grace period has completed since the unlink; a completed Tasks
// Trace GP also satisfies a regular requirement when
// rcu_trace_implies_rcu_gp(). A free that nobody observed is still reported:
// the oracle does not need the stale read to happen.
//
// reader-saw-freed (rcutorture's age check). A program registers each
// pointer it obtains inside its read section; the registration ends with
// the program. An object freed while a live program holds it, or accessed
// by a program after it was freed, is reported.
//
// The oracle reads the allocator registry and the RCU counters only, never
// model data structures, so a model bug cannot hide from it.
//
// Signal safety: all tables are preallocated at Reset; the hooks allocate
// nothing and may run in interrupt handlers.
#ifndef RECLAIMFUZZ_ENGINE_CHECK_RECLAIM_H_
#define RECLAIMFUZZ_ENGINE_CHECK_RECLAIM_H_

#include <cstddef>
#include <cstdint>

namespace reclaimfuzz::check {

// Which oracles of this file (and of the model's invariant checks) run.
// Each can be switched off, e.g. so that a test can watch ASan catch the
// stale read that early-free would have reported first.
struct OracleOptions {
  bool early_free = true;
  bool reader_saw_freed = true;
  bool invariants = true;
};

// Starts an execution: forgets every record and installs the allocator's
// free hook. Call after the machine's Reset(). `max_objects` is the
// allocator's per-execution object budget.
void ResetOracles(const OracleOptions& options, size_t max_objects);
const OracleOptions& oracle_options();

// Who may still hold a pointer to an object that was just unlinked.
enum class Readers : uint8_t {
  kRcu,       // regular RCU readers only: a regular grace period suffices
  kPrograms,  // any BPF program, sleepable ones too: a Tasks Trace GP is needed
};
const char* ReadersName(Readers r);

// The model made the object starting at `obj` unreachable for new readers.
// Unknown pointers are ignored.
void NoteUnlinked(const void* obj, Readers readers);

// The running program (task, interrupt depth) obtained a pointer into the
// object starting at `obj`. Returns the object's id (-1 if it is not a live
// object: that is itself reported as reader-saw-freed).
int64_t NoteReaderGot(const void* obj, const char* what);
// The running program is about to access object `id` through a pointer it
// got before. Reports reader-saw-freed if the object was freed.
void NoteReaderAccess(int64_t id, const char* what);
// The running program ended: its pointers are released.
void NoteReaderDone();

// The generic reclamation oracle, which needs nothing from the code under
// test but its rcu_dereference*() calls (engine/linux's shim records them):
// the running reader (task, interrupt depth) obtained through `what` a
// pointer into the live object containing `p`, inside the RCU read sections
// it holds now. Until it leaves the last of those sections, freeing that
// object is reader-saw-freed, reported at the free with the grace periods
// the free waited for and the one the reader needed. A dereference outside
// any read section (under a lock) records nothing.
void NoteRcuDeref(const void* p, const char* what);
// A BPF helper or syscall map op of the running reader returned: the
// pointers its kernel code obtained are no longer in use (the program holds
// only the value it returned, which NoteReaderGot() tracks).
void NoteHelperReturn();
// The running reader left its outermost section of domain `domain`
// (0: regular RCU, 1: RCU Tasks Trace). engine/rcu calls it.
void NoteRcuSectionEnd(int domain);

}  // namespace reclaimfuzz::check

#endif  // RECLAIMFUZZ_ENGINE_CHECK_RECLAIM_H_
