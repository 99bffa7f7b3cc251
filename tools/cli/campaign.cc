#include "tools/cli/campaign.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/check/report.h"
#include "fuzz/program.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/engine.h"
#include "tools/cli/flags.h"
#include "tools/cli/minimize.h"
#include "tools/cli/subprocess.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

namespace {


// Restarts per variant (one per new finding made non-fatal) and the least
// time worth a restart.
constexpr int kMaxSessions = 8;
constexpr int64_t kMinSessionSeconds = 5;

volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

// Ctrl-C stops the running fuzzer and skips the variants not yet started;
// the crashes found so far are still named, minimized and tabled.
class InterruptScope {
 public:
  InterruptScope() {
    g_interrupted = 0;
    struct sigaction sa = {};
    sa.sa_handler = &OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

// FNV-1a: stable names for corpus files.
std::string ContentName(absl::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("seed-%016x", h);
}

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
  bool tty = false;
};

struct Crash {
  std::string path;
  uint64_t size = 0;
  std::string finding;
  bool model = true;  // named by RunProgram (else by re-running the target)
};

std::string Tail(const std::string& path, int lines) {
  absl::StatusOr<std::string> log = ReadFile(path);
  if (!log.ok()) return "";
  std::vector<absl::string_view> all =
      absl::StrSplit(*log, '\n', absl::SkipEmpty());
  const size_t from =
      all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i)
    absl::StrAppend(&out, "    ", all[i], "\n");
  return out;
}

}  // namespace

std::string NameByTarget(const FuzzEngine& engine, const std::string& target,
                         const std::string& crash, const std::string& scratch) {
  std::error_code ec;
  fs::create_directories(scratch, ec);
  const std::string log = scratch + "/replay.log";
  absl::StatusOr<int> rc =
      RunLogged(engine.ReplayCommand(target, crash, scratch), scratch, log);
  absl::StatusOr<std::string> text = ReadFile(log);
  fs::remove_all(scratch, ec);
  if (!rc.ok() || !text.ok()) return "unreproduced";
  std::string name;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    // The report's "finding: X at step N ..." and its last line "finding: X".
    if (absl::ConsumePrefix(&line, "finding: "))
      name = std::string(line.substr(0, line.find(' ')));
    if (!name.empty()) continue;
    if (size_t at = line.find("ERROR: AddressSanitizer: ");
        at != absl::string_view::npos) {
      absl::string_view kind = line.substr(at + 25);
      name = absl::StrCat("asan:", kind.substr(0, kind.find(' ')));
    } else if (absl::StrContains(line, "ERROR: LeakSanitizer")) {
      name = "asan:leak";
    } else if (absl::StrContains(line, "WARNING: ThreadSanitizer: ")) {
      name = "data-race";
    } else if (absl::StrContains(line, "ERROR: libFuzzer: timeout")) {
      name = "timeout";
    } else if (absl::StrContains(line, "out-of-memory")) {
      name = "oom";
    }
  }
  return name.empty() ? (*rc == 0 ? "unreproduced"
                                  : absl::StrCat("crash (exit ", *rc, ")"))
                      : name;
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
        engine_(MakeEngine(o.engine)) {
    dir_ = absl::StrCat(o.out, "/", name_);
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
    std::vector<std::string> skipped;
    const std::vector<std::string> seeds = {
        o_.corpus_root + "/seeds",
        absl::StrCat(o_.corpus_root, "/", FuzzTargetName(v_))};
    absl::StatusOr<int> n = PrepareCorpus(seeds, dir_ + "/corpus", &skipped);
    if (!n.ok()) {
      outcome_.error = std::string(n.status().message());
      return outcome_;
    }
    out_ << "== " << name_ << ": " << *n << " seeds from " << o_.corpus_root
         << "/{seeds," << FuzzTargetName(v_) << "}"
         << (*n ? "" : " (none: starting from an empty corpus)") << "\n";
    for (const std::string& s : skipped)
      out_ << "   skipped seed " << s << "\n";
    if (o_.engine == "afl" && AddCleanSeed())
      out_ << "   added an empty program: AFL++ needs a seed that does not "
              "crash\n";
    out_.flush();
    Fuzz();
    Conclude();
    return outcome_;
  }

 private:
  // AFL++ refuses to start when every seed crashes.
  bool AddCleanSeed() {
    std::error_code ec;
    for (const fs::directory_entry& e :
         fs::directory_iterator(dir_ + "/corpus", ec)) {
      absl::StatusOr<fuzz::Program> p = LoadProgram(e.path().string());
      if (p.ok() && RunOnce(*p, v_).finding == "none") return false;
    }
    fuzz::Program empty;
    fuzz::Normalize(empty);
    const std::vector<uint8_t> bin = fuzz::EncodeBinary(empty);
    return WriteFile(dir_ + "/corpus/seed-empty",
                     absl::string_view(
                         reinterpret_cast<const char*>(bin.data()), bin.size()))
        .ok();
  }

  void Fuzz() {
    const int64_t secs = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(o_.duration))));
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + absl::Seconds(secs);
    const std::string log_path = dir_ + "/fuzzer.log";
    { std::ofstream truncate(log_path, std::ios::trunc); }
    int status = 0;
    for (int session = 0; session < kMaxSessions; ++session) {
      const int64_t left = static_cast<int64_t>(
          std::ceil(absl::ToDoubleSeconds(deadline - absl::Now())));
      if (session > 0 && (left < kMinSessionSeconds || g_interrupted)) break;
      bool restart = false;
      status = Session(std::max<int64_t>(left, 1), start, deadline, secs,
                       log_path, &restart);
      if (!restart) break;
      out_ << (o_.tty ? "\r\033[K" : "") << "   restarting with "
           << absl::StrJoin(Muted(), ", ")
           << " non-fatal (RECLAIMFUZZ_IGNORE)\n";
    }
    // Everything is written now: name what the last scans did not.
    engine_->CollectCrashes();
    ClassifyNew(/*final=*/true);
    outcome_.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    out_ << (o_.tty ? "\r\033[K" : "")
         << ProgressLine(absl::Now() - start, secs) << "\n";
    if (!outcome_.progress.any) {
      outcome_.error =
          absl::StrCat("the fuzzer exited with status ", status,
                       " before reporting any progress; see ", log_path);
      out_ << "   " << outcome_.error << ":\n" << Tail(log_path, 8);
    }
    if (g_interrupted) out_ << "   interrupted\n";
  }

  // Findings the model named so far: non-fatal in later sessions.
  std::set<std::string> Muted() const {
    std::set<std::string> out;
    if (!o_.mute_seen) return out;
    for (const Crash& c : crashes_) {
      if (c.model && c.finding != "none") out.insert(c.finding);
    }
    return out;
  }

  // One run of the engine for `secs`; sets *restart when it was stopped
  // because a new finding should become non-fatal. Returns its status.
  int Session(int64_t secs, absl::Time start, absl::Time deadline,
              int64_t total_secs, const std::string& log_path, bool* restart) {
    const std::set<std::string> muted = Muted();
    SessionSpec spec;
    spec.target = target_;
    spec.dir = dir_;
    spec.jobs = o_.jobs;
    spec.seconds = secs;
    spec.seed = o_.seed;
    spec.log_path = log_path;
    if (!muted.empty()) {
      // Findings already seen are counted and ignored by the target.
      spec.env.push_back(absl::StrCat("RECLAIMFUZZ_IGNORE=",
                                      absl::StrJoin(muted.begin(), muted.end(), ",")));
    }
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
        engine_->CollectCrashes();
        ClassifyNew(/*final=*/false);
        last_scan = now;
        if (termed_at == absl::InfiniteFuture() && o_.mute_seen &&
            Muted() != muted &&
            deadline - now > absl::Seconds(kMinSessionSeconds)) {
          *restart = true;
          engine_->Signal(SIGTERM);
          termed_at = now;
        }
      }
      if (o_.tty && now - last_print >= absl::Milliseconds(500)) {
        out_ << "\r\033[K" << ProgressLine(now - start, total_secs)
             << std::flush;
        last_print = now;
      } else if (!o_.tty && now - last_print >= absl::Seconds(10)) {
        out_ << ProgressLine(now - start, total_secs) << "\n" << std::flush;
        last_print = now;
      }
      if (termed_at == absl::InfiniteFuture() &&
          (g_interrupted || now > deadline + kStopGrace)) {
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
    for (const auto& [name, count] : by)
      parts.push_back(absl::StrCat(name, " x", count));
    return absl::StrFormat(
        "[%s %3ds/%ds] execs %d  %d exec/s  cov %d  ft %d  corp %d  crashes "
        "%d%s%s",
        name_, static_cast<int64_t>(absl::ToDoubleSeconds(elapsed)), secs,
        f.execs, f.exec_per_sec, f.cov, f.features, f.corpus,
        std::max<size_t>(f.crashes, crashes_.size()), parts.empty() ? "" : ": ",
        absl::StrJoin(parts, ", "));
  }

  // Names the artifacts not seen yet. During the run only the model's
  // verdict (fast); at the end also the target's for what it missed.
  void ClassifyNew(bool final) {
    std::error_code ec;
    std::vector<std::string> paths;
    for (const fs::directory_entry& e :
         fs::directory_iterator(dir_ + "/crashes", ec)) {
      if (e.is_regular_file(ec) && e.path().filename().string()[0] != '.')
        paths.push_back(e.path().string());
    }
    std::sort(paths.begin(), paths.end());
    for (const std::string& path : paths) {
      if (seen_.count(path)) continue;
      // A file younger than a second may still be being written.
      if (!final &&
          fs::last_write_time(path, ec) >
              fs::file_time_type::clock::now() - std::chrono::seconds(1)) {
        continue;
      }
      absl::StatusOr<std::string> bytes = ReadFile(path);
      if (!bytes.ok()) continue;  // being written: next scan
      seen_.insert(path);
      Crash c{path, bytes->size(), "none", true};
      const fuzz::Program p = fuzz::DecodeBinary(absl::MakeConstSpan(
          reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
      c.finding = RunOnce(p, v_).finding;
      crashes_.push_back(c);
    }
    if (!final) return;
    int replays = 0;
    for (Crash& c : crashes_) {
      if (c.finding != "none") continue;
      c.model = false;
      c.finding =
          replays++ < kMaxTargetReplays
              ? NameByTarget(*engine_, target_, c.path, dir_ + "/.replay")
              : "unreproduced";
    }
  }

  void Conclude() {
    std::map<std::string, std::vector<const Crash*>> by;
    for (const Crash& c : crashes_) by[c.finding].push_back(&c);
    for (auto& [finding, list] : by) {
      const Crash* smallest = *std::min_element(
          list.begin(), list.end(),
          [](const Crash* a, const Crash* b) { return a->size < b->size; });
      Verdict v{finding, static_cast<int>(list.size()), smallest->path};
      if (smallest->model) {
        absl::StatusOr<std::string> bytes = ReadFile(smallest->path);
        if (bytes.ok()) {
          const fuzz::Program p = fuzz::DecodeBinary(absl::MakeConstSpan(
              reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
          MinimizeOptions mo;
          mo.max_runs = o_.max_runs;
          const MinimizeResult r = Minimize(p, v_, finding, mo);
          const std::string dest =
              absl::StrCat(dir_, "/", FileNameFor(finding), ".txt");
          const std::string text = absl::StrCat(
              "# ", finding, " on ", name_, ", minimized from ", smallest->path,
              "\n", "# replay: tools/reclaimfuzz replay --variant ", name_, " ",
              dest, "\n", fuzz::FormatText(r.program));
          if (r.finding == finding && WriteFile(dest, text).ok()) {
            v.reproducer = dest;
            out_ << "   minimized " << finding << ": " << FormatSize(r.before)
                 << " -> " << FormatSize(r.after) << " (" << r.runs
                 << " runs)\n";
          }
        }
      }
      outcome_.verdicts.push_back(v);
    }
    if (outcome_.verdicts.empty() && outcome_.error.empty())
      outcome_.verdicts.push_back(Verdict{"none", 0, "-"});
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
};

// Builds the missing fuzz targets in the engine's preset, when allowed.
absl::Status EnsureTargets(const Options& o, const std::string& preset,
                           std::ostream& out) {
  std::vector<std::string> missing;
  for (storage::Variant v : o.variants) {
    const std::string t = absl::StrCat(o.fuzzer_dir, "/", FuzzTargetName(v));
    if (access(t.c_str(), X_OK) != 0) missing.push_back(FuzzTargetName(v));
  }
  if (missing.empty()) return absl::OkStatus();
  const std::string src = SourceDir();
  const std::string build_dir = absl::StrCat(src, "/build/", preset);
  const std::string cmd =
      absl::StrCat("cmake --preset ", preset, " && cmake --build build/",
                   preset, " --target ", absl::StrJoin(missing, " "));
  if (o.fuzzer_dir_given || !o.build) {
    return absl::NotFoundError(absl::StrCat(
        "missing fuzz target ", o.fuzzer_dir, "/", missing[0],
        o.fuzzer_dir_given ? "" : absl::StrCat("; build it with: ", cmd)));
  }
  const std::string log = o.out + "/build.log";
  out << "building " << absl::StrJoin(missing, " ") << " (preset " << preset
      << "; log: " << log << ")\n"
      << std::flush;
  std::error_code ec;
  if (!fs::exists(build_dir + "/build.ninja", ec) &&
      !fs::exists(build_dir + "/Makefile", ec)) {
    absl::StatusOr<int> rc =
        RunLogged({"cmake", "--preset", preset}, src, log + ".configure");
    if (!rc.ok() || *rc != 0) {
      return absl::InternalError(absl::StrCat(
          "'cmake --preset ", preset, "' failed; see ", log, ".configure"));
    }
  }
  std::vector<std::string> argv = {"cmake", "--build", build_dir, "--target"};
  argv.insert(argv.end(), missing.begin(), missing.end());
  absl::StatusOr<int> rc = RunLogged(argv, src, log);
  if (!rc.ok() || *rc != 0) {
    return absl::InternalError(
        absl::StrCat("building the fuzz targets failed (", cmd, "); see ", log,
                     ":\n", Tail(log, 10)));
  }
  return absl::OkStatus();
}

std::string DefaultOut() {
  return absl::StrCat(
      SourceDir(), "/results/",
      absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::LocalTimeZone()));
}

}  // namespace

absl::StatusOr<int> PrepareCorpus(const std::vector<std::string>& seed_dirs,
                                  const std::string& work_dir,
                                  std::vector<std::string>* skipped) {
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot create ", work_dir, ": ", ec.message()));
  std::vector<std::string> paths;
  for (const std::string& seed_dir : seed_dirs) {
    if (!fs::is_directory(seed_dir, ec)) continue;
    fs::recursive_directory_iterator it(
        seed_dir, fs::directory_options::skip_permission_denied, ec);
    for (const fs::recursive_directory_iterator end; !ec && it != end;
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        if (name == "regression" || name[0] == '.')
          it.disable_recursion_pending();
        continue;
      }
      if (name[0] == '.' || name == "expected.txt" ||
          absl::EndsWith(name, ".md"))
        continue;
      if (it->is_regular_file(ec)) paths.push_back(it->path().string());
    }
    if (ec)
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read ", seed_dir, ": ", ec.message()));
  }
  std::sort(paths.begin(), paths.end());
  std::set<std::string> written;
  for (const std::string& path : paths) {
    absl::StatusOr<fuzz::Program> p = LoadProgram(path);
    if (!p.ok()) {
      if (skipped != nullptr)
        skipped->push_back(std::string(p.status().message()));
      continue;
    }
    const std::vector<uint8_t> bin = fuzz::EncodeBinary(*p);
    const absl::string_view bytes(reinterpret_cast<const char*>(bin.data()),
                                  bin.size());
    const std::string name = ContentName(bytes);
    if (!written.insert(name).second) continue;
    if (absl::Status s = WriteFile(absl::StrCat(work_dir, "/", name), bytes);
        !s.ok())
      return s;
  }
  return static_cast<int>(written.size());
}

std::string FormatVerdictTable(const std::vector<VariantOutcome>& outcomes) {
  size_t wv = 7, wf = 7;
  for (const VariantOutcome& o : outcomes) {
    wv = std::max(wv, strlen(storage::VariantName(o.variant)));
    for (const Verdict& v : o.verdicts) wf = std::max(wf, v.finding.size());
    if (!o.error.empty()) wf = std::max<size_t>(wf, 5);
  }
  std::string out = absl::StrFormat("%-*s  %-*s  %7s  %s\n", wv, "variant", wf,
                                    "finding", "crashes", "reproducer");
  for (const VariantOutcome& o : outcomes) {
    const char* name = storage::VariantName(o.variant);
    if (!o.error.empty())
      absl::StrAppendFormat(&out, "%-*s  %-*s  %7s  %s\n", wv, name, wf,
                            "error", "-", o.error);
    for (const Verdict& v : o.verdicts) {
      absl::StrAppendFormat(&out, "%-*s  %-*s  %7d  %s\n", wv, name, wf,
                            v.finding, v.crashes, v.reproducer);
    }
  }
  absl::StrAppend(&out, "\n");
  absl::StrAppendFormat(&out, "%-*s  %8s  %10s  %7s  %6s  %7s  %6s\n", wv,
                        "variant", "seconds", "execs", "exec/s", "cov", "ft",
                        "corpus");
  for (const VariantOutcome& o : outcomes) {
    const FuzzerProgress& f = o.progress;
    absl::StrAppendFormat(&out, "%-*s  %8.0f  %10d  %7d  %6d  %7d  %6d\n", wv,
                          storage::VariantName(o.variant), o.seconds, f.execs,
                          f.exec_per_sec, f.cov, f.features, f.corpus);
  }
  return out;
}

int CampaignMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("campaign", args, out, err, &parsed); rc >= 0)
    return rc;
  if (!parsed.positional.empty()) {
    err << "reclaimfuzz campaign: unexpected argument '" << parsed.positional[0]
        << "'\n";
    return kExitUsage;
  }
  Options o;
  absl::StatusOr<std::vector<storage::Variant>> vs =
      ParseVariantList(absl::GetFlag(FLAGS_variant));
  if (!vs.ok()) {
    err << "reclaimfuzz campaign: " << vs.status().message() << "\n";
    return kExitUsage;
  }
  o.variants = *vs;
  o.duration = absl::GetFlag(FLAGS_duration);
  o.jobs = absl::GetFlag(FLAGS_jobs);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.max_runs = absl::GetFlag(FLAGS_max_runs);
  o.build = absl::GetFlag(FLAGS_build);
  o.mute_seen = absl::GetFlag(FLAGS_mute_seen);
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
    err << "reclaimfuzz campaign: unknown engine '" << o.engine
        << "' (libfuzzer, afl)\n";
    return kExitUsage;
  }
  o.out = absl::GetFlag(FLAGS_out).empty() ? DefaultOut()
                                           : absl::GetFlag(FLAGS_out);
  o.corpus_root = absl::GetFlag(FLAGS_corpus).empty()
                      ? SourceDir() + "/corpus"
                      : absl::GetFlag(FLAGS_corpus);
  o.fuzzer_dir_given = !absl::GetFlag(FLAGS_fuzzer_dir).empty();
  const std::string preset = MakeEngine(o.engine)->preset();
  o.fuzzer_dir = o.fuzzer_dir_given
                     ? absl::GetFlag(FLAGS_fuzzer_dir)
                     : absl::StrCat(SourceDir(), "/build/", preset, "/fuzz");
  o.tty = &out == &std::cout && isatty(STDOUT_FILENO);

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) {
    err << "reclaimfuzz campaign: cannot create " << o.out << ": "
        << ec.message() << "\n";
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
  for (storage::Variant v : o.variants)
    names.push_back(storage::VariantName(v));
  out << "campaign: " << absl::StrJoin(names, ", ") << "; "
      << absl::FormatDuration(o.duration) << " per variant, " << o.jobs
      << " jobs, engine " << o.engine << " (" << o.fuzzer_dir << ")\n"
      << "results: " << o.out << "\n"
      << std::flush;

  InterruptScope interrupts;
  std::vector<VariantOutcome> outcomes;
  for (storage::Variant v : o.variants) {
    if (g_interrupted) break;
    outcomes.push_back(VariantRun(o, v, out).Run());
  }
  const std::string table = FormatVerdictTable(outcomes);
  out << "\nverdict (" << o.out << "):\n" << table;
  if (g_interrupted && outcomes.size() < o.variants.size()) {
    out << "interrupted: " << o.variants.size() - outcomes.size()
        << " variants not fuzzed\n";
  }
  if (absl::Status s = WriteFile(o.out + "/verdict.txt", table); !s.ok())
    err << "reclaimfuzz campaign: " << s.message() << "\n";
  out.flush();
  for (const VariantOutcome& r : outcomes) {
    if (!r.error.empty()) return kExitFinding;
  }
  return g_interrupted ? kExitInterrupted : kExitOk;
}

}  // namespace reclaimfuzz::cli
