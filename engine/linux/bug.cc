// SPDX-License-Identifier: MIT
// The hooks of engine/linux/include/rf_bug.h. Signal safety: an interrupt
// program may reach a bug's code, so the hooks touch only atomics and, once
// per kind and process, open()/write()/close() (async-signal-safe).
#include "engine/linux/bug.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "engine/linux/include/rf_bug.h"
#include "engine/rcu/rcu.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::linux_tree {
namespace {

std::atomic<uint64_t> g_reached{0};
std::atomic<uint64_t> g_triggered{0};
std::atomic<bool> g_logged_reached{false};
std::atomic<bool> g_logged_triggered{false};

// RECLAIMFUZZ_BUG_LOG, read once before any execution (getenv is not
// async-signal-safe; the first hook call may be in a handler).
const char* LogPrefix() {
  static const char* prefix = [] {
    const char* p = getenv("RECLAIMFUZZ_BUG_LOG");
    return p != nullptr && *p != '\0' ? p : nullptr;
  }();
  return prefix;
}
[[maybe_unused]] const char* const kInitPrefix = LogPrefix();

void LogFirst(std::atomic<bool>& logged, const char* suffix) {
  const char* prefix = LogPrefix();
  if (prefix == nullptr || logged.exchange(true)) return;
  char path[4096];
  if (snprintf(path, sizeof(path), "%s.%s", prefix, suffix) >= static_cast<int>(sizeof(path))) {
    return;
  }
  const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return;  // an earlier process of the run got there first
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  char text[32];
  const int n = snprintf(text, sizeof(text), "%lld\n", static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec);
  if (n > 0) (void)!write(fd, text, static_cast<size_t>(n));
  close(fd);
}

}  // namespace

BugCounts BugCounters() { return BugCounts{g_reached.load(), g_triggered.load()}; }

}  // namespace reclaimfuzz::linux_tree

extern "C" {

void rf_bug_reached(void) {
  using namespace reclaimfuzz::linux_tree;
  g_reached.fetch_add(1, std::memory_order_relaxed);
  LogFirst(g_logged_reached, "reached");
}

void rf_bug_triggered(int cond) {
  using namespace reclaimfuzz::linux_tree;
  if (!cond) return;
  g_triggered.fetch_add(1, std::memory_order_relaxed);
  LogFirst(g_logged_triggered, "triggered");
}

int rf_bug_trace_readers(void) {
  reclaimfuzz::sched::Scheduler* s = reclaimfuzz::sched::Scheduler::Current();
  if (s == nullptr || s->current_depth() > 0) return -1;
  return static_cast<int>(reclaimfuzz::rcu::ActiveReaders(reclaimfuzz::rcu::Domain::kTasksTrace).size());
}

}  // extern "C"
