// SPDX-License-Identifier: MIT
#include "tools/cli/campaign.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "fuzz/program.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/corpus_store.h"
#include "tools/cli/crash_index.h"
#include "tools/cli/durable.h"
#include "tools/cli/engine.h"
#include "tools/cli/flags.h"
#include "tools/cli/html_report.h"
#include "tools/cli/minimize.h"
#include "tools/cli/replay.h"
#include "tools/cli/subprocess.h"
#include "tools/cli/target_replay.h"
#include "tools/cli/triage.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

namespace {

// Restarts per variant (one per new finding made non-fatal) and the least
// time worth a restart.
constexpr int kMaxSessions = 8;
constexpr int64_t kMinSessionSeconds = 5;
// The corpus is minimized when it has at least this many files and twice
// as many as after its last minimization.
constexpr int kMergeMinFiles = 256;

// Ctrl-C stops the running fuzzer and skips the variants not yet started;
// the crashes found so far are still named, minimized and tabled
// (InterruptScope, common.h).

struct Options {
  std::vector<storage::Variant> variants;
  std::string engine = "libfuzzer";
  absl::Duration duration;
  int jobs = 2;
  std::string out;
  std::string corpus_root;
  std::string fuzzer_dir;
  bool fuzzer_dir_given = false;
  bool build = true;
  int64_t seed = 0;
  int max_runs = 20000;
  bool mute_seen = true;
  bool minimize_corpus = true;
  bool tty = false;
};

struct Crash {
  std::string path;
  uint64_t size = 0;
  std::string finding;
  std::string frame = "-";                   // where (fuzz::Finding::where)
  bool model = true;                         // named by RunProgram (else by re-running the target)
  std::optional<fuzz::Execution> execution;  // the target's, when it named it
};

std::string Tail(const std::string& path, int lines) {
  absl::StatusOr<std::string> log = ReadFile(path);
  if (!log.ok()) return "";
  std::vector<absl::string_view> all = absl::StrSplit(*log, '\n', absl::SkipEmpty());
  const size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) absl::StrAppend(&out, "    ", all[i], "\n");
  return out;
}

}  // namespace

NamedCrash NameByTarget(const FuzzEngine& engine, const std::string& target, const std::string& crash,
                        const std::string& scratch) {
  std::error_code ec;
  fs::create_directories(scratch, ec);
  absl::StatusOr<fuzz::Execution> e = ReplayOnTargetCommand(engine.ReplayCommand(target, crash, scratch));
  fs::remove_all(scratch, ec);
  NamedCrash out;
  if (!e.ok()) {
    out.name = std::string(e.status().message());
    return out;
  }
  if (!e->finding.any()) {
    out.name = "unreproduced";
    return out;
  }
  out.name = e->finding.name;
  out.where = e->finding.where.empty() ? "-" : e->finding.where;
  out.execution = *std::move(e);
  return out;
}

namespace {

std::unique_ptr<FuzzEngine> MakeEngine(const std::string& name) {
  return name == "afl" ? MakeAflEngine() : MakeLibFuzzerEngine();
}

class VariantRun {
 public:
  VariantRun(const Options& o, storage::Variant v, std::ostream& out)
      : o_(o),
        v_(v),
        out_(out),
        name_(storage::VariantName(v)),
        dir_(absl::StrCat(o.out, "/", name_)),
        engine_(MakeEngine(o.engine)),
        index_(dir_ + "/findings.tsv") {
    target_ = absl::StrCat(o.fuzzer_dir, "/", FuzzTargetName(v));
    outcome_.variant = v;
  }

  VariantOutcome Run() {
    std::error_code ec;
    fs::create_directories(dir_ + "/corpus", ec);
    fs::create_directories(dir_ + "/crashes", ec);
    if (ec) {
      outcome_.error = absl::StrCat("cannot create ", dir_, ": ", ec.message());
      return outcome_;
    }
    // A campaign killed earlier: its fuzzers go, what they wrote stays.
    if (int n = KillLeftovers(dir_, target_); n > 0) {
      out_ << "   stopped " << n << " fuzzer processes left running on this folder\n";
    }
    if (int cut = RepairFolder(dir_); cut > 0) {
      out_ << "   moved " << cut
           << " files cut short by a kill (content does not match the SHA-1 "
              "they are named by) to "
           << dir_ << "/quarantine/\n";
    }
    index_.Load();
    const int corpus_before = static_cast<int>(FilesIn(dir_ + "/corpus").size());
    ClassifyNew(/*settled=*/true);
    std::vector<std::string> skipped;
    const std::vector<std::string> seeds = {o_.corpus_root + "/seeds",
                                            absl::StrCat(o_.corpus_root, "/", FuzzTargetName(v_))};
    absl::StatusOr<int> n = PrepareCorpus(seeds, dir_ + "/corpus", &skipped);
    if (!n.ok()) {
      outcome_.error = std::string(n.status().message());
      return outcome_;
    }
    out_ << "== " << name_ << ": " << *n << " seeds from " << o_.corpus_root << "/{seeds," << FuzzTargetName(v_) << "}"
         << (*n || corpus_before ? "" : " (none: starting from an empty corpus)") << "\n";
    if (corpus_before > 0 || !crashes_.empty() || !index_.empty()) {
      out_ << "   resuming " << dir_ << ": " << corpus_before << " corpus files, " << crashes_.size() << " crashes, "
           << index_.size() << " findings known\n";
    }
    for (const std::string& s : skipped) out_ << "   skipped seed " << s << "\n";
    out_.flush();
    MaybeMerge();
    if (o_.engine == "afl" && AddCleanSeed())
      out_ << "   added an empty program: AFL++ needs a seed that does not "
              "crash\n";
    out_.flush();
    Fuzz();
    Conclude();
    return outcome_;
  }

 private:
  // Records a crash's (finding, frame) in findings.tsv if it is not there:
  // a new finding, reported once; one already there (from this campaign or
  // an earlier one on this folder) is not reported again.
  void Record(const Crash& c) {
    if (c.finding == "none" || index_.Find(c.finding, c.frame) != nullptr) return;
    index_.Add(c.finding, c.frame, fs::path(c.path).filename().string(), c.model);
    new_.insert({c.finding, c.frame});
    // Saved before it is reported: a kill between the two loses nothing.
    if (absl::Status st = index_.Save(); !st.ok()) out_ << "   " << st.message() << "\n";
    out_ << (o_.tty ? "\r\033[K" : "") << "   new finding: " << c.finding << " at " << c.frame << " (" << c.path
         << ")\n"
         << std::flush;
  }

  // AFL++ refuses to start when every seed crashes.
  bool AddCleanSeed() {
    for (const std::string& path : FilesIn(dir_ + "/corpus")) {
      absl::StatusOr<fuzz::Program> p = LoadProgram(path);
      if (p.ok() && RunOnce(*p, v_).finding == "none") return false;
    }
    fuzz::Program empty;
    fuzz::Normalize(empty);
    const std::vector<uint8_t> bin = fuzz::EncodeBinary(empty);
    const absl::string_view bytes(reinterpret_cast<const char*>(bin.data()), bin.size());
    return WriteFileAtomic(dir_ + "/corpus/" + Sha1Hex(bytes), bytes).ok();
  }

  // Minimizes the corpus when it has doubled since its last minimization:
  // libFuzzer -merge=1 from corpus/ into the new folder corpus.merge/ (with
  // a control file, so a killed merge resumes), then the two folders are
  // exchanged in one step and the old one removed. corpus/ is whole at every
  // moment; the merge keeps every input that adds a feature (coverage or
  // schedule feature).
  void MaybeMerge() {
    const std::string corpus = dir_ + "/corpus";
    const std::string next = dir_ + "/corpus.merge";
    const std::string work = dir_ + "/.merge";
    const std::string control = work + "/control";
    const std::string listing = work + "/listing";
    std::error_code ec;
    // corpus.merge/ with files in it is the rest of a killed merge (cut
    // while writing) or the old corpus after the exchange: corpus/ is
    // whole either way.
    if (!fs::is_empty(next, ec) && !ec) {
      fs::remove_all(next, ec);
      fs::remove_all(work, ec);
    }
    const std::vector<std::string> merge = engine_->MergeCommand(target_, next, corpus, control);
    if (merge.empty()) return;
    const std::string hash = ListingHash(corpus);
    absl::StatusOr<std::string> old_hash = ReadFile(listing);
    const bool resume = fs::exists(control, ec) && old_hash.ok() && *old_hash == hash && fs::is_directory(next, ec);
    const int files = static_cast<int>(FilesIn(corpus).size());
    int last = 0;
    if (absl::StatusOr<std::string> s = ReadFile(dir_ + "/.corpus-merged"); s.ok())
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(*s), &last);
    if (!resume && (!o_.minimize_corpus || files < kMergeMinFiles || files < 2 * last)) return;
    if (!resume) {
      fs::remove_all(next, ec);
      fs::remove_all(work, ec);
      fs::create_directories(work, ec);
      fs::create_directories(next, ec);
      if (ec || !WriteFileAtomic(listing, hash).ok()) return;
    }
    out_ << "   " << (resume ? "resuming the minimization" : "minimizing") << " of the corpus (" << files
         << " files; libFuzzer -merge=1 into " << next << ")\n"
         << std::flush;
    const std::string log_path = dir_ + "/fuzzer.log";
    {
      std::ofstream log(log_path, std::ios::app);
      log << "$ " << absl::StrJoin(merge, " ") << "\n";
    }
    SpawnOptions so;
    so.cwd = dir_;
    so.output_file = log_path;
    so.append = true;
    so.env_set = MuteEnv();
    so.env_set.push_back("TMPDIR=" + TmpDir());
    absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(merge, so);
    const int rc = p.ok() ? (*p)->Wait() : -1;
    const int kept = static_cast<int>(FilesIn(next).size());
    if (rc != 0 || (kept == 0 && files > 0)) {
      out_ << "   the minimization failed (status " << rc << "; see " << log_path
           << "); the corpus is left as it was\n";
      fs::remove_all(next, ec);
      fs::remove_all(work, ec);
      return;
    }
    SyncFileSystem(next);
    if (absl::Status s = ExchangeDirs(corpus, next); !s.ok()) {
      out_ << "   " << s.message() << "\n";
      return;
    }
    WriteFileAtomic(dir_ + "/.corpus-merged", absl::StrCat(kept, "\n")).IgnoreError();
    fs::remove_all(next, ec);
    fs::remove_all(work, ec);
    out_ << "   corpus minimized: " << files << " -> " << kept << " files\n";
  }

  std::string TmpDir() const { return dir_ + "/.tmp"; }

  // RECLAIMFUZZ_IGNORE for the findings seen so far.
  // And RECLAIMFUZZ_PREEMPT for --preempt.
  std::vector<std::string> MuteEnv() const {
    std::vector<std::string> env;
    if (const std::string p = absl::GetFlag(FLAGS_preempt); !p.empty()) {
      env.push_back(absl::StrCat("RECLAIMFUZZ_PREEMPT=", p));
    }
    const std::set<std::string> muted = Muted();
    if (muted.empty()) return env;
    env.push_back(absl::StrCat("RECLAIMFUZZ_IGNORE=", absl::StrJoin(muted.begin(), muted.end(), ",")));
    return env;
  }

  void Fuzz() {
    const int64_t secs = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(o_.duration))));
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + absl::Seconds(secs);
    const std::string log_path = dir_ + "/fuzzer.log";
    {
      // One log across campaigns on this folder, rotated when large.
      std::error_code ec;
      if (fs::file_size(log_path, ec) > (16u << 20) && !ec) fs::rename(log_path, log_path + ".1", ec);
      std::ofstream log(log_path, std::ios::app);
      log << "==== campaign " << absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::Now(), absl::LocalTimeZone()) << " ====\n";
    }
    int status = 0;
    for (int session = 0; session < kMaxSessions; ++session) {
      const int64_t left = static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(deadline - absl::Now())));
      if (session > 0 && (left < kMinSessionSeconds || Interrupted())) break;
      bool restart = false;
      status = Session(std::max<int64_t>(left, 1), start, deadline, secs, log_path, &restart);
      if (!restart) break;
      out_ << (o_.tty ? "\r\033[K" : "") << "   restarting with " << absl::StrJoin(Muted(), ", ")
           << " non-fatal (RECLAIMFUZZ_IGNORE)\n";
    }
    // Everything is written now: name what the last scans did not.
    engine_->SyncCorpus();
    engine_->CollectCrashes();
    ClassifyNew(/*settled=*/true);
    NameByTargetAll();
    outcome_.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    out_ << (o_.tty ? "\r\033[K" : "") << ProgressLine(absl::Now() - start, secs) << "\n";
    if (!outcome_.progress.any) {
      outcome_.error =
          absl::StrCat("the fuzzer exited with status ", status, " before reporting any progress; see ", log_path);
      out_ << "   " << outcome_.error << ":\n" << Tail(log_path, 8);
    }
    if (Interrupted()) out_ << "   interrupted\n";
  }

  // Findings the model named so far (in crashes/, or in findings.tsv from
  // earlier campaigns): non-fatal in later sessions.
  // Each as "name@where", so a second finding of a name (another
  // use-after-free) still stops the fuzzer and is seen.
  std::set<std::string> Muted() const {
    std::set<std::string> out;
    if (!o_.mute_seen) return out;
    auto mute = [&](const std::string& finding, const std::string& where) {
      out.insert(where.empty() || where == "-" ? finding : absl::StrCat(finding, "@", where));
    };
    for (const Crash& c : crashes_) {
      if (c.model && c.finding != "none") mute(c.finding, c.frame);
    }
    for (const KnownFinding& k : index_.entries()) {
      if (k.model) mute(k.finding, k.frame);
    }
    return out;
  }

  // One run of the engine for `secs`; sets *restart when it was stopped
  // because a new finding should become non-fatal. Returns its status.
  int Session(int64_t secs, absl::Time start, absl::Time deadline, int64_t total_secs, const std::string& log_path,
              bool* restart) {
    const std::set<std::string> muted = Muted();
    SessionSpec spec;
    spec.target = target_;
    spec.dir = dir_;
    spec.jobs = o_.jobs;
    spec.seconds = secs;
    spec.seed = o_.seed;
    spec.log_path = log_path;
    spec.tmp_dir = TmpDir();
    spec.env = MuteEnv();
    std::error_code ec;
    fs::remove_all(spec.tmp_dir, ec);
    fs::create_directories(spec.tmp_dir, ec);
    if (absl::Status s = engine_->Start(spec); !s.ok()) {
      outcome_.error = std::string(s.message());
      return -1;
    }
    FuzzerProgress session;
    const FuzzerProgress base = outcome_.progress;
    absl::Time last_print = absl::Now();
    absl::Time last_scan = last_print;
    absl::Time termed_at = absl::InfiniteFuture();
    bool killed = false;
    while (true) {
      const bool running = engine_->Pump(200, &session);
      if (session.any) {
        // Counters add up over sessions; coverage and corpus are the
        // latest (the corpus carries over).
        outcome_.progress = session;
        outcome_.progress.execs += base.execs;
        outcome_.progress.crashes += base.crashes;
        outcome_.progress.timeouts += base.timeouts;
        outcome_.progress.ooms += base.ooms;
      }
      const absl::Time now = absl::Now();
      if (now - last_scan >= absl::Seconds(1)) {
        engine_->SyncCorpus();
        engine_->CollectCrashes();
        ClassifyNew(/*settled=*/false);
        last_scan = now;
        if (termed_at == absl::InfiniteFuture() && o_.mute_seen && Muted() != muted &&
            deadline - now > absl::Seconds(kMinSessionSeconds)) {
          *restart = true;
          engine_->Signal(SIGTERM);
          termed_at = now;
        }
      }
      if (o_.tty && now - last_print >= absl::Milliseconds(500)) {
        out_ << "\r\033[K" << ProgressLine(now - start, total_secs) << std::flush;
        last_print = now;
      } else if (!o_.tty && now - last_print >= absl::Seconds(10)) {
        out_ << ProgressLine(now - start, total_secs) << "\n" << std::flush;
        last_print = now;
      }
      if (termed_at == absl::InfiniteFuture() && (Interrupted() || now > deadline + kStopGrace)) {
        engine_->Signal(SIGTERM);
        termed_at = now;
      }
      if (!killed && now > termed_at + kStopGrace) {
        engine_->Signal(SIGKILL);
        killed = true;
      }
      if (!running) break;
    }
    return engine_->Wait();
  }

  std::string ProgressLine(absl::Duration elapsed, int64_t secs) const {
    const FuzzerProgress& f = outcome_.progress;
    std::map<std::string, int> by;
    for (const Crash& c : crashes_) ++by[c.finding];
    std::vector<std::string> parts;
    for (const auto& [name, count] : by) parts.push_back(absl::StrCat(name, " x", count));
    return absl::StrFormat(
        "[%s %3ds/%ds] execs %d  %d exec/s  cov %d  ft %d  corp %d  crashes "
        "%d%s%s",
        name_, static_cast<int64_t>(absl::ToDoubleSeconds(elapsed)), secs, f.execs, f.exec_per_sec, f.cov, f.features,
        f.corpus, std::max<size_t>(f.crashes, crashes_.size()), parts.empty() ? "" : ": ", absl::StrJoin(parts, ", "));
  }

  // Names the artifacts not seen yet by replaying them in the model, and
  // records each new (finding, where). Unless `settled` (no
  // fuzzer running), files younger than a second may still be being
  // written and wait for the next scan.
  void ClassifyNew(bool settled) {
    std::error_code ec;
    for (const std::string& path : FilesIn(dir_ + "/crashes")) {
      if (seen_.count(path)) continue;
      if (!settled && fs::last_write_time(path, ec) > fs::file_time_type::clock::now() - std::chrono::seconds(1)) {
        continue;
      }
      absl::StatusOr<std::string> bytes = ReadFile(path);
      if (!bytes.ok()) continue;  // being written: next scan
      seen_.insert(path);
      Crash c{path, bytes->size(), "none", "-", true, std::nullopt};
      const fuzz::Program p =
          fuzz::DecodeBinary(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
      // In a child (FindingInChild); a crashed child leaves "none", and
      // the target names the crash (NameByTargetAll).
      if (absl::StatusOr<fuzz::Finding> f = FindingInChild(p, v_); f.ok() && f->any()) {
        c.finding = f->name;
        c.frame = f->where.empty() ? "-" : f->where;
      }
      crashes_.push_back(c);
      Record(c);
    }
  }

  // Crashes the model does not reproduce: named by running the target.
  void NameByTargetAll() {
    int replays = 0;
    for (Crash& c : crashes_) {
      if (c.finding != "none" || !c.model) continue;
      c.model = false;
      c.frame = "-";
      if (replays++ < kMaxTargetReplays) {
        NamedCrash n = NameByTarget(*engine_, target_, c.path, dir_ + "/.replay");
        c.finding = n.name;
        c.frame = n.where;
        c.execution = std::move(n.execution);
      } else {
        c.finding = "unreproduced";
      }
      Record(c);
    }
  }

  void Conclude() {
    std::map<std::pair<std::string, std::string>, std::vector<const Crash*>> by;
    for (const Crash& c : crashes_) by[{c.finding, c.frame}].push_back(&c);
    // Findings of earlier campaigns whose crash files are gone still count.
    for (const KnownFinding& k : index_.entries()) by[{k.finding, k.frame}];
    for (auto& [key, list] : by) {
      const auto& [finding, frame] = key;
      const KnownFinding* k = index_.Find(finding, frame);
      Verdict v{finding, static_cast<int>(list.size()), "-"};
      const Crash* smallest =
          list.empty() ? nullptr : *std::min_element(list.begin(), list.end(), [](const Crash* a, const Crash* b) {
            return a->size < b->size;
          });
      if (smallest != nullptr) v.reproducer = smallest->path;
      const std::string dest = k == nullptr ? "" : absl::StrCat(dir_, "/", k->slug, ".txt");
      std::optional<fuzz::Execution> execution;  // of the minimized program
      std::error_code ec;
      if (!dest.empty() && fs::exists(dest, ec)) {
        v.reproducer = dest;  // minimized by an earlier campaign: kept as is
      } else if (!dest.empty() && smallest != nullptr && (smallest->model || smallest->execution)) {
        if (std::optional<fuzz::Execution> e = MinimizeAndWrite(*smallest, finding, frame, dest)) {
          v.reproducer = dest;
          execution = std::move(e);
        }
      }
      v.is_new = new_.count(key) > 0;
      if (v.is_new && k != nullptr && execution.has_value()) WriteHtml(*execution, v.reproducer, k->slug);
      v.frame = frame;
      outcome_.verdicts.push_back(v);
    }
    if (outcome_.verdicts.empty() && outcome_.error.empty()) outcome_.verdicts.push_back(Verdict{"none", 0, "-"});
  }

  // "name\twhere" of a program: on the model in a child (FindingInChild),
  // or, for a finding only the target's sanitizer names, on the target.
  std::string Identity(const fuzz::Program& p, bool on_target) const {
    if (on_target) {
      absl::StatusOr<fuzz::Execution> e = ReplayProgramOnTarget(target_, p);
      return e.ok() ? absl::StrCat(e->finding.name, "\t", e->finding.where.empty() ? "-" : e->finding.where)
                    : std::string(e.status().message());
    }
    absl::StatusOr<fuzz::Finding> f = FindingInChild(p, v_);
    return f.ok() ? absl::StrCat(f->name, "\t", f->where.empty() ? "-" : f->where) : std::string(f.status().message());
  }

  // Minimizes a crash while it keeps its name and where (on the model, or
  // on the target for a sanitizer's finding), writes <slug>.txt: the
  // program and its short timeline as comments; returns the minimized
  // program's execution (for the HTML page), or nothing when it could not.
  std::optional<fuzz::Execution> MinimizeAndWrite(const Crash& crash, const std::string& finding,
                                                  const std::string& frame, const std::string& dest) {
    absl::StatusOr<std::string> bytes = ReadFile(crash.path);
    if (!bytes.ok()) return std::nullopt;
    const fuzz::Program p =
        fuzz::DecodeBinary(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
    const bool on_target = !crash.model;
    MinimizeOptions mo;
    // A target run is a process (tens of milliseconds): fewer of them.
    mo.max_runs = on_target ? std::min(o_.max_runs, kMaxTargetMinimizeRuns) : o_.max_runs;
    mo.identity = [this, on_target](const fuzz::Program& q) { return Identity(q, on_target); };
    const std::string want = absl::StrCat(finding, "\t", frame);
    const MinimizeResult m = Minimize(p, v_, want, mo);
    if (m.finding != want) {
      out_ << "   could not minimize " << finding << " at " << frame << " (got " << m.finding << ")\n";
      return std::nullopt;
    }
    // The minimized program's execution: the target's for a sanitizer's
    // finding, the model's (in a child) otherwise.
    std::optional<fuzz::Execution> e;
    if (on_target) {
      absl::StatusOr<fuzz::Execution> t = ReplayProgramOnTarget(target_, m.program);
      if (t.ok()) e = *std::move(t);
    } else {
      absl::StatusOr<std::string> json = InChild([&] {
        const fuzz::Program as_run = AsTargetsRun(m.program, v_);
        return fuzz::ExecutionToJson(fuzz::CaptureLastRun(as_run, RunOnce(m.program, v_, true), v_));
      });
      if (json.ok()) {
        absl::StatusOr<fuzz::Execution> x = fuzz::ExecutionFromJson(*json);
        if (x.ok()) e = *std::move(x);
      }
    }
    std::string timeline;
    if (e.has_value()) {
      for (absl::string_view line : absl::StrSplit(e->Timeline(40, /*short_form=*/true), '\n', absl::SkipEmpty()))
        absl::StrAppend(&timeline, "#   ", line, "\n");
    }
    const std::string title = e.has_value() ? e->finding.Title() : absl::StrCat(finding, " (", frame, ")");
    const std::string text =
        absl::StrCat("# ", title, " on ", name_, on_target ? " (found by the target's sanitizer)" : "",
                     ", minimized from ", crash.path, "\n", "# replay: ", ReplayCommand(name_, dest), "\n",
                     timeline.empty() ? "" : "# timeline (short form):\n", timeline, fuzz::FormatText(m.program));
    if (!WriteFileAtomic(dest, text).ok()) return std::nullopt;
    out_ << "   minimized " << title << ": " << FormatSize(m.before) << " -> " << FormatSize(m.after) << " (" << m.runs
         << " runs)\n";
    return e;
  }

  // <slug>.html beside a new finding's reproducer: the interleaving as
  // swimlanes (html_report.h), of the minimized program.
  void WriteHtml(const fuzz::Execution& e, const std::string& reproducer, const std::string& slug) {
    ReplayResult r;
    static_cast<fuzz::Execution&>(r) = e;
    r.source = reproducer;
    r.text = FormatExecution(e, 80, /*short_form=*/false);
    const std::string path = absl::StrCat(dir_, "/", slug, ".html");
    if (absl::Status s = WriteHtmlReport(r, path); !s.ok()) {
      out_ << "   " << s.message() << "\n";
    } else {
      out_ << "   report: " << path << "\n";
    }
  }

  const Options& o_;
  storage::Variant v_;
  std::ostream& out_;
  std::string name_;
  std::string dir_;
  std::string target_;
  std::unique_ptr<FuzzEngine> engine_;
  VariantOutcome outcome_;
  std::vector<Crash> crashes_;
  std::set<std::string> seen_;
  FindingIndex index_;
  std::set<std::pair<std::string, std::string>> new_;
};

// Builds the fuzz targets in the engine's preset, when allowed: all of
// them, so that none is stale (a no-op when they are up to date; the
// variant 'tree' names whatever tree the preset was last configured with).
// Otherwise the missing ones are an error.
absl::Status EnsureTargets(const Options& o, const std::string& preset, std::ostream& out) {
  std::vector<std::string> missing, all;
  for (storage::Variant v : o.variants) {
    const std::string t = absl::StrCat(o.fuzzer_dir, "/", FuzzTargetName(v));
    all.push_back(FuzzTargetName(v));
    if (access(t.c_str(), X_OK) != 0) missing.push_back(FuzzTargetName(v));
  }
  if (missing.empty() && (o.fuzzer_dir_given || !o.build)) return absl::OkStatus();
  const std::string src = SourceDir();
  const std::string build_dir = absl::StrCat(src, "/build/", preset);
  const std::string cmd = absl::StrCat("cmake --preset ", preset, " && cmake --build build/", preset, " --target ",
                                       absl::StrJoin(missing, " "));
  if (o.fuzzer_dir_given || !o.build) {
    return absl::NotFoundError(absl::StrCat("missing fuzz target ", o.fuzzer_dir, "/", missing[0],
                                            o.fuzzer_dir_given ? "" : absl::StrCat("; build it with: ", cmd)));
  }
  const std::string log = o.out + "/build.log";
  missing = all;
  out << "building " << absl::StrJoin(missing, " ") << " (preset " << preset << ", up to date is a no-op; log: " << log
      << ")\n"
      << std::flush;
  std::error_code ec;
  if (!fs::exists(build_dir + "/build.ninja", ec) && !fs::exists(build_dir + "/Makefile", ec)) {
    absl::StatusOr<int> rc = RunLogged({"cmake", "--preset", preset}, src, log + ".configure");
    if (!rc.ok() || *rc != 0) {
      return absl::InternalError(absl::StrCat("'cmake --preset ", preset, "' failed; see ", log, ".configure"));
    }
  }
  std::vector<std::string> argv = {"cmake", "--build", build_dir, "--target"};
  argv.insert(argv.end(), missing.begin(), missing.end());
  absl::StatusOr<int> rc = RunLogged(argv, src, log);
  if (!rc.ok() || *rc != 0) {
    return absl::InternalError(
        absl::StrCat("building the fuzz targets failed (", cmd, "); see ", log, ":\n", Tail(log, 10)));
  }
  return absl::OkStatus();
}

std::string DefaultOut() { return SourceDir() + "/results/campaign"; }

// One campaign at a time per results folder: flock on <out>/.lock, held
// until the campaign ends or dies (the kernel drops it on kill -9).
class FolderLock {
 public:
  absl::Status Acquire(const std::string& dir) {
    const std::string path = dir + "/.lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return absl::PermissionDeniedError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      absl::StatusOr<std::string> pid = ReadFile(path);
      return absl::FailedPreconditionError(absl::StrCat(dir, " is in use by another campaign (pid ",
                                                        pid.ok() ? absl::StripAsciiWhitespace(*pid) : "?",
                                                        "); wait for it or give another --out"));
    }
    const std::string pid = absl::StrCat(getpid(), "\n");
    if (ftruncate(fd_, 0) == 0) (void)!pwrite(fd_, pid.data(), pid.size(), 0);
    return absl::OkStatus();
  }
  ~FolderLock() {
    if (fd_ >= 0) close(fd_);  // releases the flock
  }

 private:
  int fd_ = -1;
};

}  // namespace

std::string FormatVerdictTable(const std::vector<VariantOutcome>& outcomes) {
  size_t wv = 7, wf = 7;
  for (const VariantOutcome& o : outcomes) {
    wv = std::max(wv, strlen(storage::VariantName(o.variant)));
    for (const Verdict& v : o.verdicts) wf = std::max(wf, v.finding.size());
    if (!o.error.empty()) wf = std::max<size_t>(wf, 5);
  }
  std::string out = absl::StrFormat("%-*s  %-*s  %7s  %s\n", wv, "variant", wf, "finding", "crashes", "reproducer");
  for (const VariantOutcome& o : outcomes) {
    const char* name = storage::VariantName(o.variant);
    if (!o.error.empty()) absl::StrAppendFormat(&out, "%-*s  %-*s  %7s  %s\n", wv, name, wf, "error", "-", o.error);
    for (const Verdict& v : o.verdicts) {
      absl::StrAppendFormat(&out, "%-*s  %-*s  %7d  %s\n", wv, name, wf, v.finding, v.crashes, v.reproducer);
    }
  }
  absl::StrAppend(&out, "\n");
  absl::StrAppendFormat(&out, "%-*s  %8s  %10s  %7s  %6s  %7s  %6s\n", wv, "variant", "seconds", "execs", "exec/s",
                        "cov", "ft", "corpus");
  for (const VariantOutcome& o : outcomes) {
    const FuzzerProgress& f = o.progress;
    absl::StrAppendFormat(&out, "%-*s  %8.0f  %10d  %7d  %6d  %7d  %6d\n", wv, storage::VariantName(o.variant),
                          o.seconds, f.execs, f.exec_per_sec, f.cov, f.features, f.corpus);
  }
  return out;
}

std::string FormatNewFindings(const std::vector<VariantOutcome>& outcomes) {
  std::vector<std::string> lines;
  int known = 0;
  for (const VariantOutcome& o : outcomes) {
    for (const Verdict& v : o.verdicts) {
      if (v.finding == "none") continue;
      if (!v.is_new) {
        ++known;
        continue;
      }
      lines.push_back(absl::StrCat("  ", storage::VariantName(o.variant), ": ", v.finding, " at ", v.frame, " -> ",
                                   v.reproducer, "\n"));
    }
  }
  std::string out = absl::StrCat("\nnew findings: ", lines.size());
  if (known > 0) absl::StrAppend(&out, " (", known, " more known from earlier campaigns on this folder)");
  absl::StrAppend(&out, "\n");
  for (const std::string& l : lines) absl::StrAppend(&out, l);
  return out;
}

namespace {

std::string HtmlBeside(const std::string& reproducer) {
  if (!absl::EndsWith(reproducer, ".txt")) return "";
  const std::string html = reproducer.substr(0, reproducer.size() - 4) + ".html";
  std::error_code ec;
  return fs::exists(html, ec) ? html : "";
}

}  // namespace

std::string FormatPatchComparison(const VariantOutcome& base, const VariantOutcome& patched, int* added_count,
                                  const CrossReplay& replays_on) {
  using Key = std::pair<std::string, std::string>;  // (finding, where)
  auto index = [](const VariantOutcome& o) {
    std::map<Key, const Verdict*> m;
    for (const Verdict& v : o.verdicts) {
      if (v.finding != "none") m.emplace(Key{v.finding, v.frame}, &v);
    }
    return m;
  };
  const std::map<Key, const Verdict*> b = index(base), p = index(patched);
  auto line = [](const Verdict& v) {
    const std::string html = HtmlBeside(v.reproducer);
    return absl::StrCat("    ", v.finding, " at ", v.frame, " (", v.crashes,
                        " crashes)\n      reproducer: ", v.reproducer,
                        html.empty() ? "" : absl::StrCat("\n      page:       ", html), "\n");
  };
  // A finding one side's campaign missed is still that side's when its
  // reproducer, replayed there, gives it (same name, same frame).
  auto also = [&](const Verdict& v, const VariantOutcome& other) { return replays_on && replays_on(v, other.variant); };
  std::string added, removed, both;
  int n_added = 0;
  for (const auto& [k, v] : p) {
    if (b.count(k)) {
      absl::StrAppend(&both, line(*v));
    } else if (also(*v, base)) {
      absl::StrAppend(&both, line(*v), "      (", storage::VariantName(base.variant),
                      "'s campaign missed it; its reproducer replays to it there)\n");
    } else {
      ++n_added;
      absl::StrAppend(&added, line(*v));
    }
  }
  if (added_count != nullptr) *added_count = n_added;
  for (const auto& [k, v] : b) {
    if (p.count(k)) continue;
    if (also(*v, patched)) {
      absl::StrAppend(&both, line(*v), "      (", storage::VariantName(patched.variant),
                      "'s campaign missed it; its reproducer replays to it there)\n");
    } else {
      absl::StrAppend(&removed, line(*v));
    }
  }
  const std::string bn = storage::VariantName(base.variant), pn = storage::VariantName(patched.variant);
  std::string out = absl::StrCat("\ncheck: ", pn, " (the tree with the patches) against ", bn,
                                 " (the same tree without them), each fuzzed for the same time\n");
  absl::StrAppend(&out, "  added by the patches (", pn, " only):", added.empty() ? " none\n" : "\n", added);
  absl::StrAppend(&out, "  removed by the patches (", bn, " only):", removed.empty() ? " none\n" : "\n", removed);
  absl::StrAppend(&out, "  in both (not the patches'):", both.empty() ? " none\n" : "\n", both);
  for (const VariantOutcome* o : {&base, &patched}) {
    if (!o->error.empty()) {
      absl::StrAppend(&out, "  INCOMPLETE: ", storage::VariantName(o->variant), ": ", o->error, "\n");
    }
  }
  return out;
}

int CampaignMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("campaign", args, out, err, &parsed); rc >= 0) return rc;
  if (!parsed.positional.empty()) {
    err << "reclaimfuzz campaign: unexpected argument '" << parsed.positional[0] << "'\n";
    return kExitUsage;
  }
  Options o;
  absl::StatusOr<std::vector<storage::Variant>> vs = ParseVariantList(absl::GetFlag(FLAGS_variant));
  if (!vs.ok()) {
    err << "reclaimfuzz campaign: " << vs.status().message() << "\n";
    return kExitUsage;
  }
  o.variants = *vs;
  if (absl::GetFlag(FLAGS_compare) && o.variants.size() != 2) {
    err << "reclaimfuzz campaign: --compare needs exactly two variants, BASE,PATCHED (got " << o.variants.size()
        << ")\n";
    return kExitUsage;
  }
  o.duration = absl::GetFlag(FLAGS_duration);
  o.jobs = absl::GetFlag(FLAGS_jobs);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.max_runs = absl::GetFlag(FLAGS_max_runs);
  o.build = absl::GetFlag(FLAGS_build);
  o.mute_seen = absl::GetFlag(FLAGS_mute_seen);
  o.minimize_corpus = absl::GetFlag(FLAGS_minimize_corpus);
  if (o.duration <= absl::ZeroDuration()) {
    err << "reclaimfuzz campaign: --duration must be positive, e.g. 60s\n";
    return kExitUsage;
  }
  if (o.jobs < 1 || o.jobs > 64) {
    err << "reclaimfuzz campaign: --jobs must be 1 to 64\n";
    return kExitUsage;
  }
  o.engine = absl::GetFlag(FLAGS_engine);
  if (o.engine != "libfuzzer" && o.engine != "afl") {
    err << "reclaimfuzz campaign: unknown engine '" << o.engine << "' (libfuzzer, afl)\n";
    return kExitUsage;
  }
  o.out = absl::GetFlag(FLAGS_out).empty() ? DefaultOut() : absl::GetFlag(FLAGS_out);
  o.corpus_root = absl::GetFlag(FLAGS_corpus).empty() ? SourceDir() + "/corpus" : absl::GetFlag(FLAGS_corpus);
  o.fuzzer_dir_given = !absl::GetFlag(FLAGS_fuzzer_dir).empty();
  const std::string preset = MakeEngine(o.engine)->preset();
  o.fuzzer_dir =
      o.fuzzer_dir_given ? absl::GetFlag(FLAGS_fuzzer_dir) : absl::StrCat(SourceDir(), "/build/", preset, "/fuzz");
  o.tty = &out == &std::cout && isatty(STDOUT_FILENO);
  {
    // The fuzzers run inside the variant's folder: paths must not be
    // relative to here.
    std::error_code ec;
    o.out = fs::absolute(o.out, ec).lexically_normal().string();
    o.fuzzer_dir = fs::absolute(o.fuzzer_dir, ec).lexically_normal().string();
    o.corpus_root = fs::absolute(o.corpus_root, ec).lexically_normal().string();
  }

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) {
    err << "reclaimfuzz campaign: cannot create " << o.out << ": " << ec.message() << "\n";
    return kExitUsage;
  }
  FolderLock lock;
  if (absl::Status s = lock.Acquire(o.out); !s.ok()) {
    err << "reclaimfuzz campaign: " << s.message() << "\n";
    return kExitUsage;
  }
  if (o.engine == "afl" && !InPath("afl-fuzz")) {
    err << "reclaimfuzz campaign: afl-fuzz not found (Debian package afl++; "
           "tools/reclaimfuzz deps installs it)\n";
    return kExitUsage;
  }
  if (absl::Status s = EnsureTargets(o, preset, out); !s.ok()) {
    err << "reclaimfuzz campaign: " << s.message() << "\n";
    return kExitUsage;
  }
  std::vector<std::string> names;
  for (storage::Variant v : o.variants) names.push_back(storage::VariantName(v));
  out << "campaign: " << absl::StrJoin(names, ", ") << "; " << absl::FormatDuration(o.duration) << " per variant, "
      << o.jobs << " jobs, engine " << o.engine << " (" << o.fuzzer_dir << ")\n"
      << "results: " << o.out << "\n"
      << std::flush;

  InterruptScope interrupts;
  std::vector<VariantOutcome> outcomes;
  for (storage::Variant v : o.variants) {
    if (Interrupted()) break;
    outcomes.push_back(VariantRun(o, v, out).Run());
  }
  std::string table = FormatVerdictTable(outcomes) + FormatNewFindings(outcomes);
  const bool compare = absl::GetFlag(FLAGS_compare);
  bool patch_adds = false;
  if (compare && outcomes.size() == 2) {
    int added = 0;
    // Replays a text reproducer of a model-named finding (not an ASan-only
    // crash file: this process has no sanitizer) on the other variant.
    const CrossReplay replays_on = [](const Verdict& v, storage::Variant other) {
      if (!absl::EndsWith(v.reproducer, ".txt") || absl::StartsWith(v.finding, "asan:")) return false;
      absl::StatusOr<fuzz::Program> p = LoadProgram(v.reproducer);
      if (!p.ok()) return false;
      absl::StatusOr<fuzz::Finding> f = FindingInChild(*p, other);
      return f.ok() && f->name == v.finding && (f->where.empty() ? "-" : f->where) == v.frame;
    };
    const std::string cmp = FormatPatchComparison(outcomes[0], outcomes[1], &added, replays_on);
    patch_adds = added > 0;
    absl::StrAppend(&table, cmp);
    if (absl::Status s = WriteFileAtomic(o.out + "/check.txt", cmp); !s.ok())
      err << "reclaimfuzz campaign: " << s.message() << "\n";
  }
  out << "\nverdict (" << o.out << "):\n" << table;
  if (Interrupted() && outcomes.size() < o.variants.size()) {
    out << "interrupted: " << o.variants.size() - outcomes.size() << " variants not fuzzed\n";
  }
  if (absl::Status s = WriteFileAtomic(o.out + "/verdict.txt", table); !s.ok())
    err << "reclaimfuzz campaign: " << s.message() << "\n";
  out.flush();
  for (const VariantOutcome& r : outcomes) {
    if (!r.error.empty()) return kExitFinding;
  }
  if (Interrupted()) return kExitInterrupted;
  return compare && patch_adds ? kExitFinding : kExitOk;
}

}  // namespace reclaimfuzz::cli
