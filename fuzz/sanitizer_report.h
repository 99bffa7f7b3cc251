// SPDX-License-Identifier: MIT
// Findings of a fuzz target as values (fuzz/finding.h), for the front end.
//
// With RECLAIMFUZZ_FINDING_OUT=PATH in its environment, a fuzz target that
// replays an input writes the execution as JSON to PATH when it ends in a
// finding: an oracle's (written before the target aborts), or a
// sanitizer's (ASan's from its death callback, after its report; TSan's
// after the execution its first report came in, WriteSanitizerFindingAfterRun). A sanitizer's finding is named by its
// kind and the first function of the code under test on its stack ("use-after-free in bpf_local_storage_update"), with
// the object's allocation and free sites from ASan's own records, and the scheduler's trace up to the crash: the
// interleaving that led there. The front end reads it back with
// ExecutionFromJson() (tools/cli/target_replay.h) and treats it exactly as
// an oracle's finding: deduplicated, minimized, written as a text
// reproducer with a timeline and an HTML page.
//
// Without the variable nothing is installed: libFuzzer's own death
// callback (which saves the crashing input) stays.
#ifndef RECLAIMFUZZ_FUZZ_SANITIZER_REPORT_H_
#define RECLAIMFUZZ_FUZZ_SANITIZER_REPORT_H_

#include <string>

#include "engine/storage/variant.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"

namespace reclaimfuzz::fuzz {

// Before each execution: the program as it will run. Installs the death
// callback the first time when RECLAIMFUZZ_FINDING_OUT is set.
void SetReportInput(const Program* p, storage::Variant v);

// From a sanitizer's death callback installed by the program itself (a
// runner that prints its own result, fuzz/baseline_runner.cc): the name of
// the finding being reported, as the written execution would have it
// ("use-after-free", "asan:deadly-signal"), without symbolizing anything.
std::string SanitizerDeathName();

// After an execution, in a TSan build: when TSan reported during it (its
// report hook recorded the first report's access and stack, and the
// machine's position), writes that finding to RECLAIMFUZZ_FINDING_OUT and
// returns true; the caller then stops as for an oracle's finding. TSan's
// death callback cannot do this: it runs inside the report, where the
// runtime holds locks that instrumented code waits for. False elsewhere.
bool WriteSanitizerFindingAfterRun();

// After an execution, in a TSan build: whether TSan reported during it
// (since the last SetReportInput()). False elsewhere: an ASan report ends
// the process instead.
bool SanitizerReportedDuringRun();

// After an execution that ends in an oracle's finding the target reports:
// writes it to RECLAIMFUZZ_FINDING_OUT, if set.
void WriteOracleFinding(const Program& p, const RunResult& r, storage::Variant v);

// The first function of the code under test among `pcs` (program counters,
// innermost first), by the sanitizer's symbolizer: a frame of the model
// (engine/storage) or of a kernel tree's files, else of the engine, else
// any named frame; "" if none.
std::string FirstProjectFrame(void* const* pcs, int n);

}  // namespace reclaimfuzz::fuzz

#endif  // RECLAIMFUZZ_FUZZ_SANITIZER_REPORT_H_
