// SPDX-License-Identifier: MIT
#include "tools/cli/bench_runs.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fuzz/finding.h"
#include "tools/cli/bench_bugs.h"
#include "tools/cli/common.h"
#include "tools/cli/engine.h"

namespace reclaimfuzz::cli::bench {
namespace {

namespace fs = std::filesystem;

// After the cap, a run gets this long to exit by itself before SIGKILL.
constexpr double kGrace = 10;
constexpr int kPollMs = 20;

}  // namespace

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string Bin(const Options& o, const std::string& preset, const std::string& name) {
  return absl::StrCat(o.src, "/build/", preset, "/fuzz/", name);
}

std::string AflSeedDir(const Options& o) { return o.out + "/afl-seed"; }

void CopySeeds(const Options& o, const std::string& dir) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(o.out + "/seeds", ec)) {
    fs::copy_file(e.path(), dir + "/" + e.path().filename().string(), ec);
  }
}

namespace {

absl::Status StartJob(const Options& o, Job& j) {
  std::error_code ec;
  fs::create_directories(j.dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", j.dir, ": ", ec.message()));
  const std::string abort = absl::StrCat("RECLAIMFUZZ_ABORT_ON=", absl::StrJoin(j.abort_on, ","));
  const bool restart = j.segment > 0;
  SpawnOptions so;
  so.cwd = j.dir;
  so.output_file = j.dir + "/log";
  so.append = restart;
  j.log_offset = restart ? static_cast<size_t>(fs::file_size(so.output_file, ec)) : 0;
  if (ec) j.log_offset = 0;
  so.env_set = {abort, "RECLAIMFUZZ_IGNORE=", absl::StrCat("RECLAIMFUZZ_BUG_LOG=", j.bug ? j.dir + "/bug" : "")};
  // The time to find ends when the process does: no symbolized stack
  // traces on the way out (llvm-symbolizer's start-up alone took 0.13 s,
  // more than a whole run of some findings). The crash file is named
  // afterwards, by a replay that writes the finding (StartNaming).
  std::string asan_options = "symbolize=0";
  if (const char* env = getenv("ASAN_OPTIONS"); env != nullptr && *env != '\0') {
    asan_options = absl::StrCat(env, ":", asan_options);
  }
  // (Not for AFL++, which insists on its own ASAN_OPTIONS and runs the
  // uninstrumented afl build anyway.)
  std::vector<std::string> argv;
  const std::string& s = j.run.strategy;
  if (s != "afl") so.env_set.push_back(absl::StrCat("ASAN_OPTIONS=", asan_options));
  const double now = Now();
  if (!restart) {
    j.start = now;
    j.start_epoch = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  }
  const int cap = restart ? std::max(1, static_cast<int>(std::ceil(o.cap - (now - j.start)))) : static_cast<int>(o.cap);
  const uint64_t seed = j.run.seed + 1000000ull * j.segment;
  if (s == bench::kProduct) {
    // False-finding runs start from the checked-in seeds (a stronger check),
    // and so do the bug benchmark's (the seeds ship with the product, as
    // a Magma target's seed corpus does); B1-B3's runs from an empty corpus.
    const std::string corpus = j.dir + "/corpus";
    fs::create_directories(corpus, ec);
    if (j.false_check || (j.bug && !restart)) CopySeeds(o, corpus);
    argv = {Bin(o, "asan", FuzzTargetName(j.variant)),     absl::StrCat("-seed=", seed),
            absl::StrCat("-max_total_time=", cap),         "-print_final_stats=1",
            absl::StrCat("-artifact_prefix=", j.dir, "/"), corpus};
  } else if (s == "afl") {
    argv = {"afl-fuzz",
            "-i",
            j.bug ? o.out + "/seeds" : AflSeedDir(o),
            "-o",
            j.dir + "/out",
            "-s",
            absl::StrCat(j.run.seed),
            "-V",
            absl::StrCat(cap),
            "--",
            Bin(o, "afl", FuzzTargetName(j.variant))};
    for (const char* e :
         {"AFL_NO_UI=1", "AFL_SKIP_CPUFREQ=1", "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1", "AFL_NO_AFFINITY=1"}) {
      so.env_set.push_back(e);
    }
  } else {
    const bool pct = s.rfind("pct", 0) == 0;
    argv = {Bin(o, "asan", "baseline_runner"),
            absl::StrCat("--variant=", storage::VariantName(j.variant)),
            absl::StrCat("--strategy=", pct ? "pct" : s),
            absl::StrCat("--depth=", pct ? s.substr(3) : "1"),
            absl::StrCat("--seed=", seed),
            absl::StrCat("--cap=", cap),
            absl::StrCat("--abort_on=", absl::StrJoin(j.abort_on, ","))};
  }
  j.run.log = fs::relative(j.dir + "/log", o.out, ec).string();
  {
    std::ofstream cmd(j.dir + "/command", restart ? std::ios::app : std::ios::trunc);
    cmd << absl::StrJoin(so.env_set, " ") << " " << absl::StrJoin(argv, " ") << "\n";
  }
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, so);
  if (!p.ok()) return p.status();
  j.proc = *std::move(p);
  return absl::OkStatus();
}

// Stops a run. afl-fuzz gets SIGTERM first: its fork server lives in a
// session of its own, and afl-fuzz stops it on SIGTERM, not on SIGKILL.
void Stop(Job& j) {
  if (j.proc->Poll().has_value()) return;
  if (j.run.strategy == "afl") {
    j.proc->Signal(SIGTERM);
    for (int i = 0; i < 250 && !j.proc->Poll().has_value(); ++i) usleep(kPollMs * 1000);
  }
  j.proc->Signal(SIGKILL);
  j.proc->Wait();
}

bool AbortsOn(const Job& j, const std::string& name) {
  if (j.abort_on.empty()) return name != "none";
  return std::find(j.abort_on.begin(), j.abort_on.end(), name) != j.abort_on.end();
}

// The name of the finding in the execution a target wrote to `path`
// (RECLAIMFUZZ_FINDING_OUT), if it wrote one.
std::optional<std::string> WrittenFinding(const std::string& path) {
  absl::StatusOr<std::string> json = ReadFile(path);
  if (!json.ok()) return std::nullopt;
  absl::StatusOr<fuzz::Execution> e = fuzz::ExecutionFromJson(*json);
  if (!e.ok()) return std::nullopt;
  return e->finding.name;
}

// Starts the variant's asan target on `input` with every finding aborting,
// writing the execution it ends in to `json`: how a crash file is named,
// as a campaign names its crashes (tools/cli/target_replay.h), without
// waiting for it, so that other runs' ends are still seen on time.
absl::StatusOr<std::unique_ptr<Subprocess>> StartNaming(const Options& o, const Job& j, const std::string& input,
                                                        const std::string& json, const std::string& log) {
  std::error_code ec;
  fs::remove(json, ec);
  SpawnOptions so;
  so.cwd = j.dir;
  so.output_file = log;
  so.env_set = {"RECLAIMFUZZ_ABORT_ON=", "RECLAIMFUZZ_IGNORE=", "RECLAIMFUZZ_BUG_LOG=",
                absl::StrCat("RECLAIMFUZZ_FINDING_OUT=", json)};
  return Subprocess::Start({Bin(o, "asan", FuzzTargetName(j.variant)), input}, so);
}

// The newest libFuzzer artifact (crash-*, timeout-*, ...) in a product
// run's folder not looked at before; "" if none.
std::string NewArtifact(Job& j) {
  std::error_code ec;
  std::string best;
  fs::file_time_type best_time{};
  for (const fs::directory_entry& e : fs::directory_iterator(j.dir, ec)) {
    const std::string fn = e.path().filename().string();
    if (!e.is_regular_file(ec) || bench::ArtifactKind(fn).empty() || j.seen_crashes.count(fn)) continue;
    const fs::file_time_type t = fs::last_write_time(e.path(), ec);
    if (best.empty() || t > best_time) {
      best = fn;
      best_time = t;
    }
  }
  if (!best.empty()) j.seen_crashes.insert(best);
  return best;
}

// A product process that ended: with a crash file, the asan target starts
// naming it (j.verifier; FinishProcessJob follows when it is done) and this
// returns true; otherwise the run's end is named by its artifact, if any.
bool StartNamingProductEnd(const Options& o, Job& j, double end) {
  j.verifying = NewArtifact(j);
  j.verifying_time = end;
  if (bench::ArtifactKind(j.verifying) != "crash") return false;
  absl::StatusOr<std::unique_ptr<Subprocess>> p =
      StartNaming(o, j, j.dir + "/" + j.verifying, j.dir + "/finding.json", j.dir + "/verify.log");
  if (!p.ok()) return false;
  j.verifier = *std::move(p);
  return true;
}

// A finished product or baseline process: read its part of the log; a
// crash that does not count, with a second or more left, restarts it. A
// product run's finding is what its crash file was named (after
// StartNamingProductEnd), a baseline's the one in its result line.
void FinishProcessJob(const Options& o, Job& j, double end) {
  std::string log = ReadFile(j.dir + "/log").value_or("");
  log.erase(0, std::min(j.log_offset, log.size()));
  j.run.seconds = end - j.start;
  uint64_t execs = 0;
  bool known = false;
  if (j.run.strategy == bench::kProduct) {
    const std::string kind = bench::ArtifactKind(j.verifying);
    j.run.finding = bench::RunFinding(kind == "crash" ? WrittenFinding(j.dir + "/finding.json") : std::nullopt, kind);
    j.verifying.clear();
    std::optional<uint64_t> e = bench::LibFuzzerExecs(log);
    execs = e.value_or(0);
    known = e.has_value();
  } else {
    absl::StatusOr<std::map<std::string, std::string>> kv = bench::ParseResultLine(log);
    j.run.finding = kv.ok() && kv->count("finding") ? (*kv)["finding"] : "none";
    known = kv.ok() && absl::SimpleAtoi((*kv)["execs"], &execs);
    if (!kv.ok()) j.run.error = absl::StrCat("baseline_runner gave no result line; see ", j.run.log);
  }
  j.run.execs = j.execs_before + execs;
  j.run.execs_known = known && !j.execs_unknown_before;
  j.run.found = AbortsOn(j, j.run.finding);
  if (!j.run.found && j.run.finding != "none" && !j.false_check && !Interrupted() && o.cap - (end - j.start) >= 1) {
    absl::StrAppend(&j.run.restarted_after, j.run.restarted_after.empty() ? "" : "+", j.run.finding);
    j.execs_before = j.run.execs;
    j.execs_unknown_before = !j.run.execs_known;
    ++j.segment;
    const absl::Status s = StartJob(o, j);
    if (s.ok()) return;
    j.run.error = absl::StrCat("restart failed: ", s.message());
  }
  std::error_code ec;
  fs::remove_all(j.dir + "/corpus", ec);  // can be large; the log and crash stay
  j.done = true;
}

// AFL++: look for new crash files; verify each with the asan target (every
// finding aborts there) so that only the target's findings count.
void PumpAfl(const Options& o, Job& j) {
  if (j.verifier) {
    if (!j.verifier->Poll().has_value()) return;
    j.verifier.reset();
    const std::string name = bench::RunFinding(WrittenFinding(j.dir + "/verify.json"), "crash");
    std::ofstream(j.dir + "/crashes.txt", std::ios::app) << j.verifying << " " << name << "\n";
    if (AbortsOn(j, name)) {
      j.run.found = true;
      j.run.finding = name;
      j.run.seconds = j.verifying_time;
      j.run.execs = j.verifying_execs.value_or(0);
      j.run.execs_known = j.verifying_execs.has_value();
      Stop(j);
      j.done = true;
      return;
    }
    if (j.run.finding == "none") j.run.finding = name;  // a crash of another kind
  }
  std::error_code ec;
  const std::string crashes = j.dir + "/out/default/crashes";
  std::vector<fs::directory_entry> fresh;
  for (const fs::directory_entry& e : fs::directory_iterator(crashes, ec)) {
    const std::string fn = e.path().filename().string();
    if (fn.rfind("id:", 0) == 0 && !j.seen_crashes.count(fn)) fresh.push_back(e);
  }
  if (fresh.empty()) return;
  std::sort(fresh.begin(), fresh.end());
  const fs::directory_entry& e = fresh.front();
  const std::string fn = e.path().filename().string();
  j.seen_crashes.insert(fn);
  // The crash's time: its file's modification time, on the wall clock.
  const auto mtime = fs::last_write_time(e.path(), ec);
  const double age = std::chrono::duration<double>(fs::file_time_type::clock::now() - mtime).count();
  j.verifying_time = std::max(0.0, Now() - age - j.start);
  std::optional<bench::AflCrashName> parsed = bench::ParseAflCrashName(fn);
  j.verifying_execs = parsed ? parsed->execs : std::nullopt;
  j.verifying = fn;
  absl::StatusOr<std::unique_ptr<Subprocess>> p =
      StartNaming(o, j, e.path().string(), j.dir + "/verify.json", j.dir + "/verify.log");
  if (p.ok()) j.verifier = *std::move(p);
}

void FinishAflJob(Job& j, double end) {
  j.run.seconds = end - j.start;
  const std::string stats = ReadFile(j.dir + "/out/default/fuzzer_stats").value_or("");
  FuzzerProgress p;
  if (ParseAflStats(stats, &p)) {
    j.run.execs = p.execs;
  } else {
    j.run.execs_known = false;
    const std::string log = ReadFile(j.dir + "/log").value_or("");
    if (log.find("PROGRAM ABORT") != std::string::npos) {
      j.run.error = absl::StrCat("afl-fuzz stopped with an error; see ", j.run.log);
    }
  }
  j.done = true;
}

std::string Describe(const Job& j) {
  if (j.false_check) {
    return absl::StrFormat("%s product run %d", storage::VariantName(j.variant), j.run.index + 1);
  }
  return absl::StrFormat("%s %s run %d", j.run.target, j.run.strategy, j.run.index + 1);
}

// --bugs: when the run's processes first reached and triggered the bug
// (engine/linux/bug.h's files), in seconds from the run's start.
void ReadBugLog(Job& j) {
  for (const char* kind : {"reached", "triggered"}) {
    absl::StatusOr<std::string> text = ReadFile(absl::StrCat(j.dir, "/bug.", kind));
    std::optional<double> t;
    if (text.ok()) t = bench::ParseBugLogTime(*text, j.start_epoch);
    const bool reached = kind[0] == 'r';
    (reached ? j.run.reached : j.run.triggered) = t.has_value();
    (reached ? j.run.reached_seconds : j.run.triggered_seconds) = t.value_or(0);
  }
}

}  // namespace

void RunPool(const Options& o, std::vector<Job>& jobs, std::ostream& out) {
  std::deque<Job*> pending;
  for (Job& j : jobs) pending.push_back(&j);
  std::vector<Job*> running;
  size_t finished = 0;
  const double t0 = Now();
  double last_status = t0;
  while ((!pending.empty() || !running.empty())) {
    while (!Interrupted() && static_cast<int>(running.size()) < o.jobs && !pending.empty()) {
      Job* j = pending.front();
      pending.pop_front();
      if (absl::Status s = StartJob(o, *j); !s.ok()) {
        j->run.error = std::string(s.message());
        j->done = true;
        ++finished;
        out << absl::StrFormat("[%d/%d] %s: could not start: %s\n", finished, jobs.size(), Describe(*j), j->run.error);
        continue;
      }
      running.push_back(j);
    }
    if (Interrupted()) {
      for (Job* j : running) {
        Stop(*j);
        j->run.error = "interrupted";
        j->done = true;
      }
      for (Job* j : pending) j->run.error = "interrupted";
      return;
    }
    usleep(kPollMs * 1000);
    const double now = Now();
    for (Job* j : running) {
      const bool afl = j->run.strategy == "afl";
      if (afl) PumpAfl(o, *j);
      if (j->done) continue;
      if (!afl && j->verifier) {  // naming the crash file a product run ended with
        if (!j->verifier->Poll().has_value()) continue;
        j->verifier.reset();
        FinishProcessJob(o, *j, j->verifying_time);
        continue;
      }
      const std::optional<int> rc = j->proc->Poll();
      if (rc.has_value() && !(afl && j->verifier)) {
        if (afl) {
          // Crash files written just before the exit are still looked at.
          PumpAfl(o, *j);
          while (!j->done && j->verifier) {
            usleep(kPollMs * 1000);
            PumpAfl(o, *j);
          }
          if (!j->done) FinishAflJob(*j, std::min(now, j->start + o.cap));
        } else if (j->run.strategy != bench::kProduct || !StartNamingProductEnd(o, *j, now)) {
          FinishProcessJob(o, *j, now);
        }
      } else if (now - j->start > o.cap + kGrace) {
        Stop(*j);
        if (afl) {
          FinishAflJob(*j, now);
        } else {
          if (j->run.strategy == bench::kProduct) j->verifying = NewArtifact(*j);
          FinishProcessJob(o, *j, now);
          if (j->done) j->run.found = false;
        }
      }
    }
    for (auto it = running.begin(); it != running.end();) {
      Job* j = *it;
      if (!j->done) {
        ++it;
        continue;
      }
      j->proc->KillGroup();
      ++finished;
      if (j->bug) ReadBugLog(*j);
      const Run& r = j->run;
      std::string what;
      if (!r.error.empty()) {
        what = "error: " + r.error;
      } else if (r.found) {
        what = absl::StrFormat("found %s in %s s (%s execs%s)", r.finding, bench::FormatSeconds(r.seconds),
                               r.execs_known ? bench::FormatCount(r.execs) : "?",
                               r.restarted_after.empty() ? "" : absl::StrCat("; restarted after ", r.restarted_after));
      } else {
        what = absl::StrFormat("%s in %s s (%s execs)%s", j->false_check ? "no finding" : "not found",
                               bench::FormatSeconds(r.seconds), r.execs_known ? bench::FormatCount(r.execs) : "?",
                               r.finding != "none"         ? absl::StrCat("; ended by ", r.finding)
                               : r.restarted_after.empty() ? ""
                                                           : absl::StrCat("; restarted after ", r.restarted_after));
      }
      if (j->bug) {
        absl::StrAppend(
            &what,
            r.reached ? absl::StrCat("; reached at ", bench::FormatSeconds(r.reached_seconds), " s") : "; not reached",
            r.triggered ? absl::StrCat(", triggered at ", bench::FormatSeconds(r.triggered_seconds), " s")
            : r.reached ? ", not triggered"
                        : "");
      }
      out << absl::StrFormat("[%d/%d] %s: %s\n", finished, jobs.size(), Describe(*j), what) << std::flush;
      it = running.erase(it);
    }
    if (now - last_status >= 30) {
      last_status = now;
      out << absl::StrFormat("bench: %d of %d runs done, %d running, %.0f s elapsed\n", finished, jobs.size(),
                             running.size(), now - t0)
          << std::flush;
    }
  }
}

}  // namespace reclaimfuzz::cli::bench
