// SPDX-License-Identifier: MIT
#include "tools/cli/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, variant, "",
          "engine variant, e.g. v4, always-defer-v1, linux-6.12, "
          "linux-6.12+map-free-fix ('reclaimfuzz variants' lists them; "
          "campaign, triage: a comma-separated list, or 'all')");
ABSL_FLAG(std::string, o, "", "output file");
ABSL_FLAG(int32_t, rows, 80, "timeline rows to print (the newest are kept)");
ABSL_FLAG(bool, short, false,
          "replay: the short timeline, one line per step that matters (the operations, the unlink, the grace "
          "periods, the free, the bad access), at most --rows lines (40 when --rows is not given): ready to "
          "paste into a mailing-list reply");
ABSL_FLAG(std::string, html, "",
          "also write the interleaving as a self-contained HTML page (swimlanes "
          "per vCPU) to this file; one input only");
ABSL_FLAG(int32_t, max_runs, 20000, "give up shrinking after this many executions");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(60), "fuzzing time per variant, e.g. 60s, 2m");
ABSL_FLAG(int32_t, jobs, 2,
          "parallel fuzzing processes (campaign: per variant, libFuzzer "
          "-fork=N; bench: runs at a time)");
ABSL_FLAG(std::string, engine, "libfuzzer", "fuzzing engine: libfuzzer or afl");
ABSL_FLAG(std::string, out, "",
          "results folder, reused: a campaign resumes the corpus and findings "
          "it holds (default: results/campaign/ in the source tree)");
ABSL_FLAG(std::string, corpus, "",
          "folder holding the seed folders storage_<variant>_fuzz/ (default: "
          "corpus/ in the source tree)");
ABSL_FLAG(std::string, fuzzer_dir, "",
          "folder holding the storage_<variant>_fuzz binaries (default: "
          "build/asan/fuzz/ in the "
          "source tree, built if missing)");
ABSL_FLAG(bool, build, true, "build missing fuzz targets (cmake --build build/<preset> --target ...)");
ABSL_FLAG(int64_t, seed, 0, "libFuzzer -seed (0: libFuzzer picks one)");
ABSL_FLAG(bool, mute_seen, true,
          "after a variant's first crash with a finding, restart its fuzzer with "
          "that finding non-fatal "
          "(RECLAIMFUZZ_IGNORE), so it explores past a shallow bug to deeper ones");
ABSL_FLAG(bool, minimize_corpus, true,
          "before fuzzing a variant whose corpus has doubled since its last "
          "minimization (and has 256 files or more), minimize it with "
          "libFuzzer -merge=1 into a new folder that replaces it whole");
ABSL_FLAG(bool, compare, false,
          "with two variants BASE,PATCHED: also print (and write to <out>/check.txt) what PATCHED "
          "adds, removes and shares; exit 1 if it adds a finding (tools/reclaimfuzz check)");
ABSL_FLAG(std::string, preempt, "",
          "preemption model: voluntary, full or rt (default: the variant's, voluntary for real "
          "trees as Debian builds them, full for the model)");
