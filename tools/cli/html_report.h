// SPDX-License-Identifier: MIT
// The visual report: one self-contained HTML page per replayed input.
//
// The page shows the interleaving as swimlanes, one per vCPU plus one for
// housekeeping threads (grace-period kthread, main): task segments, hardirq
// and NMI handlers nested inside the task they interrupted, lock
// operations, RCU readers, allocations, unlinks, grace-period ends, frees
// (the finding's object marked), and the finding itself (the bad access),
// under a header naming the finding, variant, input, and the object's
// allocation and free sites.
//
// Self-contained: inline CSS and JavaScript only, a Content-Security-Policy
// that forbids any fetch, no URL anywhere. The trace is embedded as JSON
// (nlohmann-json, every '<', '>' and '&' escaped as \u003c.. so it cannot end
// its script element); the script builds the lanes from it with textContent only and
// sets data-rendered="1" on #timeline when done. The header and the text
// report are also in the HTML itself, escaped, so the page says what
// happened even with scripts off.
//
// DOM contract (tests and other tools rely on it):
//   #timeline[data-rendered="1"][data-vcpus=N][data-events=E]
//   section.lane[data-vcpu=C]       C = 0..N-1, and -1 for housekeeping
//   div.segment[data-vcpu][data-task]      a task's stretch on a lane
//   div.irq.hardirq|.nmi[data-vcpu][data-depth]  an interrupt handler
//   div.event[data-vcpu][data-step][data-kind]   one trace event (or a fold
//       of plain preemption points), with classes among: point lock unlock
//       spin rcu-read call-rcu irq-state defer sched run preempt block wake
//       done irq-pending irq-enter irq-exit note alloc free unlink gp-start
//       gp-end lock-error finding-object bad-access, or op (a context
//       starting a BPF operation, "get m1 o0 create")
#ifndef RECLAIMFUZZ_TOOLS_CLI_HTML_REPORT_H_
#define RECLAIMFUZZ_TOOLS_CLI_HTML_REPORT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tools/cli/replay.h"

namespace reclaimfuzz::cli {

// The whole page.
std::string RenderHtmlReport(const ReplayResult& r);

// Writes RenderHtmlReport(r) to `path` (replaced whole: written to a
// temporary file beside it, then renamed). Errors name the path.
absl::Status WriteHtmlReport(const ReplayResult& r, const std::string& path);

// The space-separated classes of one event in the page (see above).
std::string EventClasses(const fuzz::TraceEvent& e, const ReplayResult& r);

// Escaping, exposed for tests.
std::string HtmlEscape(absl::string_view s);
// A JSON string literal (with quotes) that is also safe inside <script>.
std::string JsonString(absl::string_view s);

}  // namespace reclaimfuzz::cli

#endif  // RECLAIMFUZZ_TOOLS_CLI_HTML_REPORT_H_
