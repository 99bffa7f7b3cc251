// SPDX-License-Identifier: MIT
// Reading libFuzzer's stderr for a campaign's live progress.
//
// Status lines look like (clang 14):
//   fork mode:  #39001: cov: 1485 ft: 3049 corp: 212 exec/s 1312
//   oom/timeout/crash: 0/0/2 time: 13s job: 5 dft_time: 0 in-process: #1234
//   NEW    cov: 123 ft: 456 corp: 7/90b lim: 4 exec/s: 1234 rss: 45Mb L: 3/4
//   MS: 1 ...
//               #65536	pulse  cov: 123 ft: 456 corp: 7/90b lim: 4 exec/s: 1234
//               rss: 45Mb
// Anything else (NEW_FUNC, INFO, sanitizer reports) is not a status line.
//
// In fork mode the line's "exec/s" is not the session's rate: it is the
// average of the one job that just ended, as that job's final stats give
// it (executions over its whole seconds), so a job that ends within its
// first second (a crash, with -ignore_crashes=1) shows 0, and with -fork=N
// it is one job's rate of N. So for fork-mode lines exec_per_sec is
// computed instead: the executions of the jobs that ended since the first
// line over the seconds since then (both from the lines), or, until the
// clock has moved past the first line, executions over seconds.
#ifndef RECLAIMFUZZ_TOOLS_CLI_LIBFUZZER_LOG_H_
#define RECLAIMFUZZ_TOOLS_CLI_LIBFUZZER_LOG_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace reclaimfuzz::cli {

struct FuzzerProgress {
  uint64_t execs = 0;
  uint64_t exec_per_sec = 0;
  uint64_t cov = 0;       // edges (libFuzzer "cov")
  uint64_t features = 0;  // "ft": edges, counters and the extra schedule counters
  uint64_t corpus = 0;
  uint64_t crashes = 0;  // fork mode: jobs that crashed
  uint64_t timeouts = 0;
  uint64_t ooms = 0;
  uint64_t seconds = 0;
  bool any = false;  // a status line was seen
  // Fork mode: the first status line's executions and seconds (the rate's
  // origin; the parent's start-up merge of the corpus comes before it).
  bool fork_origin = false;
  uint64_t fork_origin_execs = 0;
  uint64_t fork_origin_seconds = 0;
};

// Updates `p` from one line; true if it was a status line.
bool ParseLibFuzzerLine(absl::string_view line, FuzzerProgress* p);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_LIBFUZZER_LOG_H_
