// SPDX-License-Identifier: MIT
#include "tools/cli/libfuzzer_log.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace reclaimfuzz::cli {
namespace {

// The leading digits of "212", "7/90b", "13s", "45Mb".
bool LeadingNumber(absl::string_view s, uint64_t* out) {
  size_t n = 0;
  while (n < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[n]))) ++n;
  return n > 0 && absl::SimpleAtoi(s.substr(0, n), out);
}

}  // namespace

bool ParseLibFuzzerLine(absl::string_view line, FuzzerProgress* p) {
  line = absl::StripAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&line, "#")) return false;
  std::vector<absl::string_view> toks = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (toks.empty()) return false;
  absl::string_view first = absl::StripSuffix(toks[0], ":");
  uint64_t execs;
  if (!absl::SimpleAtoi(first, &execs)) return false;
  FuzzerProgress q = *p;
  q.execs = execs;
  bool saw_cov = false;
  bool fork_line = false;  // "time: 13s": only fork mode's lines have it
  for (size_t i = 1; i + 1 < toks.size(); ++i) {
    const absl::string_view key = absl::StripSuffix(toks[i], ":");
    const absl::string_view val = toks[i + 1];
    uint64_t n;
    if (key == "oom/timeout/crash") {
      std::vector<absl::string_view> parts = absl::StrSplit(val, '/');
      uint64_t o, t, c;
      if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &o) && absl::SimpleAtoi(parts[1], &t) &&
          absl::SimpleAtoi(parts[2], &c)) {
        q.ooms = o;
        q.timeouts = t;
        q.crashes = c;
        ++i;
      }
      continue;
    }
    if (!LeadingNumber(val, &n)) continue;
    if (key == "cov") {
      q.cov = n;
      saw_cov = true;
    } else if (key == "ft") {
      q.features = n;
    } else if (key == "corp") {
      q.corpus = n;
    } else if (key == "exec/s") {
      q.exec_per_sec = n;
    } else if (key == "time") {
      q.seconds = n;
      fork_line = true;
    } else {
      continue;
    }
    ++i;
  }
  if (!saw_cov) return false;
  if (fork_line) {
    if (!q.fork_origin) {
      q.fork_origin = true;
      q.fork_origin_execs = q.execs;
      q.fork_origin_seconds = q.seconds;
    }
    if (q.seconds > q.fork_origin_seconds && q.execs >= q.fork_origin_execs) {
      q.exec_per_sec = (q.execs - q.fork_origin_execs) / (q.seconds - q.fork_origin_seconds);
    } else {
      q.exec_per_sec = q.execs / std::max<uint64_t>(q.seconds, 1);
    }
  }
  q.any = true;
  *p = q;
  return true;
}

}  // namespace reclaimfuzz::cli
