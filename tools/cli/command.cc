// SPDX-License-Identifier: MIT
#include "tools/cli/command.h"

#include <algorithm>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "engine/sched/scheduler.h"

namespace reclaimfuzz::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command>* commands = new std::vector<Command>{
      {"campaign",
       "campaign [--variant V,...] [--duration 60s] [--jobs 2] [--engine "
       "libfuzzer|afl] [--out DIR]",
       "Fuzzes every variant (or those named) for --duration each, from its "
       "corpus in --out and its seeds,\n"
       "with its libFuzzer target in fork mode (-ignore_crashes=1: it keeps on "
       "after a finding) or with\n"
       "AFL++ (-M and -S instances), over --jobs cores; shows live progress; "
       "names each crash by\n"
       "replaying it, minimizes one per (variant, finding, where) "
       "into <out>/<variant>/<finding>.txt\n"
       "and prints the verdict table (also <out>/verdict.txt). The folder is "
       "reused: a later campaign on\n"
       "it resumes its corpus and findings (findings seen before are not "
       "reported as new), and a kill -9\n"
       "at any moment loses nothing already saved.\n"
       "Exit status: 0 done, 1 a fuzzer could not run, 2 bad usage or missing "
       "targets, 130 interrupted.",
       {"variant", "duration", "jobs", "engine", "out", "corpus", "fuzzer_dir", "build", "seed", "max_runs",
        "mute_seen", "minimize_corpus", "compare", "preempt"},
       &CampaignMain},
      {"replay",
       "replay --variant V FILE...",
       "Runs each input (text or binary) once on variant V and prints its "
       "per-vCPU timeline, or the\n"
       "finding's report, ending with 'finding: <name>' or 'finding: none'.\n"
       "--html also writes the interleaving as a self-contained HTML page "
       "(one input only).\n"
       "--short prints the short timeline (at most 40 lines: the operations, the unlink, grace periods,\n"
       "the free and the bad access), ready to paste into a mailing-list reply.\n"
       "A user's tree: tools/reclaimfuzz replay --kernel-tree DIR|linux-X.Y [--patch FILE]... --variant tree FILE\n"
       "(tools/reclaimfuzz builds the tree, with the patches applied to a copy, into the variant 'tree').\n"
       "Exit status: 0 no finding, 1 a finding in some file, 2 bad input.",
       {"variant", "rows", "short", "html", "preempt"},
       &ReplayMain},
      {"minimize",
       "minimize --variant V FILE [-o OUT]",
       "Shrinks a program that gives a finding on variant V while keeping the "
       "same finding name: removes\n"
       "tasks, interrupts, steps, ops, schedule events and unused maps and "
       "owners, and lowers schedule\n"
       "steps and values, until nothing more can go. Writes the text form to "
       "OUT (default FILE.min.txt).",
       {"variant", "o", "max_runs"},
       &MinimizeMain},
      {"triage",
       "triage [--variant V,...] DIR",
       "Runs every file under DIR on each variant (default: the variant its "
       "folder names, as\n"
       "storage_<variant>_fuzz/ or <variant>/, else all) and groups the "
       "results by (variant, finding,\n"
       "where), with counts and one example path per group.",
       {"variant"},
       &TriageMain},
      {"variants",
       "variants",
       "Lists every engine variant of the registry (engine/variants.txt) and "
       "the user's trees of this build:\n"
       "name, engine, whether this build has it, the findings it is expected "
       "to have, and what it is.",
       {},
       &VariantsMain},
      {"decode", "decode FILE", "Prints a program (binary or text) in text form on stdout.", {}, &DecodeMain},
      {"encode",
       "encode FILE -o OUT",
       "Writes a text program in binary form (what the fuzz targets read) to "
       "OUT.",
       {"o"},
       &EncodeMain},
      {"bench",
       "bench [--bugs] [--quick] [--runs 10] [--cap 60] [--jobs 2] [--findings B1,B2,B3] "
       "[--strategies ...] [--out DIR]",
       "Times how fast each strategy finds B1 (list-corruption, lost-object on "
       "always-defer-v1), B2 (early-free,\n"
       "reader-saw-freed, use-after-free on always-defer-v1) and B3 "
       "(invalid-wait-context on v4): --runs single-process\n"
       "runs per strategy, each from an empty corpus with its own seed, capped "
       "at --cap seconds, --jobs at a time.\n"
       "Strategies: product (the libFuzzer asan target), afl (AFL++ on the afl "
       "build, from one trivial seed),\n"
       "random and pct1-3 (fuzz/baseline_runner: random programs under the "
       "random or PCT choice source),\n"
       "stress (the same random programs on native threads, one per task, the OS deciding who runs, "
       "interrupts from a timer;\n"
       "one CPU per run; not deterministic).\n"
       "Also executions/second of the release, asan, tsan and afl builds on the "
       "seeds, and the false-findings\n"
       "check (the product on the variants expected clean and v4-srcu-fix). Writes CSV, "
       "survival.png and table.txt to\n"
       "--out (default results/bench-<time>/) and prints the table. --quick: "
       "3 runs, 25 s cap, product,afl,random,pct2.\n"
       "--bugs: the bug benchmark instead (patches/bugs/bugs.txt; --findings "
       "names bugs): per bug and strategy, runs that\n"
       "reached the bug's code, triggered its broken state and detected it, "
       "time and executions to detection, and\n"
       "a summary (bugs found per strategy, the product's geometric-mean "
       "speedup); cap 300 s, no throughput or\n"
       "false-findings phase; the product and AFL++ start from the checked-in "
       "seeds; results/bench-bugs-<time>/.\n"
       "--bugs --quick: 2 runs, 15 s cap, product,random,pct2,stress.\n"
       "Exit status: 0 done, 1 a false finding, 2 bad usage or missing "
       "binaries, 130 interrupted.",
       {"bugs", "quick", "runs", "cap", "jobs", "findings", "strategies", "out", "build", "throughput", "fuzz_seconds",
        "false_findings"},
       &BenchMain},
  };
  return *commands;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string Usage() {
  std::string out = "usage: reclaimfuzz <command> [flags] [args]\n\ncommands:\n";
  for (const Command& c : Commands()) absl::StrAppend(&out, "  ", c.synopsis, "\n");
  absl::StrAppend(&out,
                  "\n'reclaimfuzz <command> --help' describes one command and "
                  "its flags.\n"
                  "tools/reclaimfuzz --kernel-tree DIR|linux-X.Y [--patch FILE]... <command> adds the variant\n"
                  "'tree' (that tree's bpf_local_storage.c, patched) to any command.\n");
  return out;
}

std::string CommandHelp(const Command& c) {
  std::string out = absl::StrCat("usage: reclaimfuzz ", c.synopsis, "\n\n", c.description, "\n");
  if (!c.flags.empty()) absl::StrAppend(&out, "\nflags:\n");
  for (const char* name : c.flags) {
    const absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
    if (f == nullptr) continue;
    const std::string def = f->DefaultValue();
    absl::StrAppend(&out, absl::StrFormat("  %-2s%-12s %s%s\n", name[1] ? "--" : "-", name, f->Help(),
                                          def.empty() ? "" : absl::StrCat(" (default: ", def, ")")));
  }
  return out;
}

namespace {

bool Accepts(const Command& c, absl::string_view name) {
  for (const char* n : c.flags) {
    if (name == n) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<Parsed> ParseArgs(const Command& c, const Args& args) {
  Parsed p;
  for (const char* name : c.flags) {
    absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
    std::string error;
    if (f == nullptr || !f->ParseFrom(f->DefaultValue(), &error)) {
      return absl::InternalError(absl::StrCat("flag --", name, " is not defined"));
    }
  }
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (flags_done || a.size() < 2 || a[0] != '-') {
      p.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    absl::string_view body = a;
    if (!absl::ConsumePrefix(&body, "--")) absl::ConsumePrefix(&body, "-");
    absl::string_view name = body;
    absl::string_view value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (name == "help" || name == "h" || name == "helpfull") {
      p.help = true;
      continue;
    }
    absl::CommandLineFlag* f = Accepts(c, name) ? absl::FindCommandLineFlag(name) : nullptr;
    bool negated = false;
    if (f == nullptr && absl::StartsWith(name, "no") && Accepts(c, name.substr(2))) {
      absl::CommandLineFlag* g = absl::FindCommandLineFlag(name.substr(2));
      if (g != nullptr && g->IsOfType<bool>() && !has_value) {
        f = g;
        negated = true;
      }
    }
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", a, "' for ", c.name, " (see 'reclaimfuzz ", c.name, " --help')"));
    }
    std::string v;
    if (f->IsOfType<bool>()) {
      v = has_value ? std::string(value) : negated ? "false" : "true";
    } else if (has_value) {
      v = std::string(value);
    } else if (i + 1 < args.size()) {
      v = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag '", a, "' needs a value"));
    }
    // A duration given as bare seconds ("--duration 90") means 90s.
    if (f->Name() == "duration" && !v.empty() &&
        std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      v += "s";
    }
    if (f->Name() == "preempt" && !v.empty() && !sched::ParsePreemptModel(v)) {
      return absl::InvalidArgumentError(absl::StrCat("bad value '", v, "' for --preempt: voluntary, full or rt"));
    }
    std::string error;
    if (!f->ParseFrom(v, &error)) {
      return absl::InvalidArgumentError(absl::StrCat("bad value '", v, "' for --", f->Name(), ": ", error));
    }
    p.given.insert(std::string(f->Name()));
  }
  return p;
}

int Prologue(const char* name, const Args& args, std::ostream& out, std::ostream& err, Parsed* parsed) {
  const Command* c = FindCommand(name);
  if (c == nullptr) {
    err << "reclaimfuzz: internal error: no command " << name << "\n";
    return kExitUsage;
  }
  absl::StatusOr<Parsed> p = ParseArgs(*c, args);
  if (!p.ok()) {
    err << "reclaimfuzz " << name << ": " << p.status().message() << "\n";
    return kExitUsage;
  }
  if (p->help) {
    out << CommandHelp(*c);
    return kExitOk;
  }
  *parsed = *std::move(p);
  return -1;
}

}  // namespace reclaimfuzz::cli
