// SPDX-License-Identifier: MIT
// Structure-aware mutation of programs (syzkaller's prog/mutation.go in
// spirit): the fuzz targets' LLVMFuzzerCustomMutator and
// LLVMFuzzerCustomCrossOver decode the input, apply edits to the IR, and
// encode it again, so that one mutation is one meaningful change — an op
// inserted with operands that name declared maps and owners, an op copied
// from a task into an interrupt program, a schedule event moved by a few
// steps — instead of a byte flip that shifts every later record.
//
// A bug like B1 needs a program shape (elements created, two deletes on
// one vCPU, a third delete in an NMI on that vCPU) and then one interrupt
// within a few steps of one point: the structure edits build the first,
// the schedule edits the second. Byte-level mutation (libFuzzer's own)
// keeps a share so that nothing the format can express is unreachable.
#ifndef RECLAIMFUZZ_FUZZ_MUTATOR_H_
#define RECLAIMFUZZ_FUZZ_MUTATOR_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "engine/sched/prng.h"
#include "fuzz/program.h"

namespace reclaimfuzz::fuzz {

// A whole new program (syzkaller's generate): a few maps and owners, one
// to four tasks of random programs whose ops name declared maps and owners,
// up to three interrupt programs, and a schedule of several events within
// `horizon`. What the mutator starts from when the input is empty, and
// now and then after.
Program GenerateProgram(sched::SplitMix64& rng, uint64_t horizon);

// One edit of the schedule: add an event at a step within `horizon` (the
// length of a recent execution), move one by up to 8 steps, change the
// option one takes, or drop one; or, given `waits` (the steps at which a
// recent execution began spin-waits, sched::BytesChoice::wait_starts()),
// now and then a "continue" at one of them: a stall, the one event that
// reaches a lock's timeout (engine/sched/choice_bytes.h).
void MutateSchedule(Program& p, sched::SplitMix64& rng, uint64_t horizon, absl::Span<const uint64_t> waits = {});

// One edit of the structure: insert, copy, remove or change an op; add or
// remove a step, a task, an interrupt program, a map or an owner; change a
// vCPU, a program kind, the number of vCPUs. Leaves p normalized.
void MutateStructure(Program& p, sched::SplitMix64& rng);

// Takes a part of `b` into `a`: a task or an interrupt program, a run of
// ops, or the schedule. Leaves a normalized.
void CrossOver(Program& a, const Program& b, sched::SplitMix64& rng);

// The custom mutator's body: one edit of the binary input in place, within
// max_size; `bytes` is the byte-level fallback (LLVMFuzzerMutate). Returns
// the new size. Deterministic for a given seed and input.
using ByteMutator = size_t (*)(uint8_t* data, size_t size, size_t max_size);
size_t MutateInput(uint8_t* data, size_t size, size_t max_size, unsigned seed, uint64_t horizon,
                   absl::Span<const uint64_t> waits, ByteMutator bytes);

// The custom crossover's body; returns the size written to out (0: none).
size_t CrossOverInputs(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2, uint8_t* out,
                       size_t max_out_size, unsigned seed);

}  // namespace reclaimfuzz::fuzz

#endif  // RECLAIMFUZZ_FUZZ_MUTATOR_H_
