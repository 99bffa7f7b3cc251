// SPDX-License-Identifier: MIT
// campaign: the main job (docs/design.md §6). For each variant, fuzz its libFuzzer
// target in fork mode with -ignore_crashes=1 (so one variant can show
// several findings), or AFL++ (-M and -S instances), from its corpus and
// seeds, show live progress, name each saved crash by replaying it, keep
// one minimized reproducer per (variant, finding, where) and
// print the verdict table.
//
// The results folder is kept from one campaign to the next (default
// results/campaign/): a campaign on a folder resumes its corpus and its
// findings, and nothing in it is lost to a kill -9 at any moment (the
// campaign's own writes are atomic; what a killed fuzzer cut short is
// recognized by its SHA-1 name and set aside; the corpus is minimized into
// a new folder swapped in whole). Layout:
//   <out>/.lock                     flock: one campaign per folder
//   <out>/build.log                 only if fuzz targets had to be built
//   <out>/verdict.txt               the table printed at the end
//   <out>/<variant>/corpus/         the corpus (binary, named by SHA-1)
//   <out>/<variant>/crashes/        crashing inputs (crash-<sha1>, ...)
//   <out>/<variant>/findings.tsv    every (finding, frame) seen, ever
//   <out>/<variant>/<finding>.txt   its minimized reproducer, text form
//   <out>/<variant>/fuzzer.log      the fuzzers' output, all campaigns
//   <out>/<variant>/quarantine/     files a kill cut short
//   <out>/<variant>/afl/            AFL++'s instances (--engine afl)
//   <out>/<variant>/.tmp/           the fuzzers' scratch (TMPDIR)
//   <out>/<variant>/corpus.merge/, .merge/, .corpus-merged   minimization
#ifndef RECLAIMFUZZ_TOOLS_CLI_CAMPAIGN_H_
#define RECLAIMFUZZ_TOOLS_CLI_CAMPAIGN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/storage/variant.h"
#include "fuzz/finding.h"
#include "tools/cli/corpus_store.h"
#include "tools/cli/libfuzzer_log.h"

namespace reclaimfuzz::cli {

// Grace after the time budget before the fuzzer is stopped by a signal
// (fork mode finishes its running jobs first, which can take a while).
inline constexpr absl::Duration kStopGrace = absl::Seconds(5);
// Crashes the model does not reproduce are re-run in the fuzz target to
// name them (an ASan-only report, a leak); at most this many per variant.
inline constexpr int kMaxTargetReplays = 16;
// Minimizing a finding only a sanitizer names runs the target once per
// candidate: at most this many runs.
inline constexpr int kMaxTargetMinimizeRuns = 300;

// PrepareCorpus(): corpus_store.h.

class FuzzEngine;

// A crash the model does not reproduce (an ASan-only report, a corrupted
// list the release build cannot survive), named by running it once in the
// target with RECLAIMFUZZ_FINDING_OUT (fuzz/sanitizer_report.h): the
// finding's name and where ("use-after-free", "in
// bpf_local_storage_update") and the execution the target wrote; without
// one, "unreproduced" (exit 0), "timeout" or "crash (exit N)".
struct NamedCrash {
  std::string name;
  std::string where = "-";
  std::optional<fuzz::Execution> execution;
};
NamedCrash NameByTarget(const FuzzEngine& engine, const std::string& target, const std::string& crash,
                        const std::string& scratch);

// One row of the table: a (finding, where) of a variant.
struct Verdict {
  std::string finding;      // "none" for a clean variant
  int crashes = 0;          // saved inputs with this finding (all campaigns)
  std::string reproducer;   // minimized text file, or a crash file, or "-"
  std::string frame = "-";  // where (fuzz::Finding::where, triage.h)
  bool is_new = false;      // first seen by this campaign
};

struct VariantOutcome {
  storage::Variant variant = storage::Variant::kV4;
  FuzzerProgress progress;
  double seconds = 0;
  std::string error;  // the fuzzer could not run: why, and where its log is
  std::vector<Verdict> verdicts;
};

std::string FormatVerdictTable(const std::vector<VariantOutcome>& outcomes);
// "new findings: N (M more known from earlier campaigns on this folder)"
// and one line per new finding: "  <variant>: <finding> at <frame> ->
// <reproducer>".
std::string FormatNewFindings(const std::vector<VariantOutcome>& outcomes);

// check (campaign --compare BASE,PATCHED): the findings, keyed by (finding,
// where), that PATCHED has and BASE lacks (added by the patches),
// that BASE has and PATCHED lacks (removed), and that both have (not the
// patches'), each with its reproducer and HTML page. *added_count: how many
// were added.
// replays_on(v, other): whether v's reproducer, replayed on `other`, gives
// the same (finding, frame); a finding it confirms is in both, not added or
// removed (a campaign of fixed length can miss what the other side has).
using CrossReplay = std::function<bool(const Verdict&, storage::Variant)>;
std::string FormatPatchComparison(const VariantOutcome& base, const VariantOutcome& patched, int* added_count = nullptr,
                                  const CrossReplay& replays_on = nullptr);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_CAMPAIGN_H_
