// SPDX-License-Identifier: MIT
// Corpus replay with expected verdicts (docs/design.md §1): every seed on every
// variant gives the verdict in corpus/seeds/expected.txt, every regression
// reproducer gives the finding it is named after, always-defer-fixed finds
// nothing in the whole corpus, v4-srcu-fix none of B1-B3's findings, and
// every input gives the same trace hash when run twice.
//
// RECLAIMFUZZ_PRINT_VERDICTS=1 prints the actual table in expected.txt's
// format (for reviewing a change of verdict, never for copying blindly).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/storage/variant.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "gtest/gtest.h"
#include "tests/program_files.h"

namespace reclaimfuzz {
namespace {

namespace fs = std::filesystem;
using storage::Variant;

const fs::path kCorpus = fs::path(RF_SOURCE_DIR) / "corpus";

fuzz::Program Load(const fs::path& p) { return testing::LoadText(p); }

// The variants this build can run: the model's, and the real trees it
// compiled.
std::vector<Variant> Built() {
  std::vector<Variant> out;
  for (Variant v : storage::AllVariants()) {
    if (fuzz::VariantBuilt(v)) out.push_back(v);
  }
  return out;
}

fuzz::RunResult RunOn(const fuzz::Program& in, Variant v) {
  fuzz::Program p = in;
  if (storage::IsRealTree(v)) fuzz::AsFuzzTargetsRun(p, v);  // task storage only, as the targets run it
  fuzz::RunOptions o;
  o.variant = v;
  o.on_finding = check::OnFinding::kStop;
  return fuzz::RunProgram(p, o);
}

std::vector<fs::path> TextFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".txt" && e.path().filename() != "expected.txt") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Regression reproducers: (variant, path, expected finding).
struct Repro {
  Variant variant;
  fs::path path;
  std::string finding;
};
std::vector<Repro> Reproducers() {
  std::vector<Repro> out;
  for (Variant v : Built()) {
    for (const fs::path& p : TextFiles(kCorpus / ("storage_" + storage::VariantIdent(v) + "_fuzz") / "regression")) {
      std::string stem = p.stem().string();
      // "<finding>" or "<finding>-<n>"
      const size_t dash = stem.find_last_of('-');
      if (dash != std::string::npos && std::all_of(stem.begin() + dash + 1, stem.end(), ::isdigit) &&
          dash + 1 < stem.size()) {
        stem = stem.substr(0, dash);
      }
      out.push_back(Repro{v, p, stem});
    }
  }
  return out;
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RF_CORPUS_TSAN 1
#endif
#endif

TEST(Corpus, SeedsGiveTheirExpectedVerdicts) {
  std::map<std::pair<std::string, std::string>, std::string> expected;
  std::ifstream in(kCorpus / "seeds" / "expected.txt");
  ASSERT_TRUE(in) << "missing corpus/seeds/expected.txt";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    ASSERT_EQ(f.size(), 3u) << "bad line in expected.txt: " << line;
    expected[{f[0], f[1]}] = f[2];
  }
  // A variant's own folder may hold its seeds' verdicts too (so a variant
  // added since is its registry line, its file and its folder):
  // corpus/storage_<ident>_fuzz/seeds-expected.txt, lines "seed finding".
  for (Variant v : storage::AllVariants()) {
    std::ifstream own(kCorpus / ("storage_" + storage::VariantIdent(v) + "_fuzz") / "seeds-expected.txt");
    while (own && std::getline(own, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      ASSERT_EQ(f.size(), 2u) << "bad line in seeds-expected.txt of " << storage::VariantName(v) << ": " << line;
      expected[{f[0], storage::VariantName(v)}] = f[1];
    }
  }
  const bool print = getenv("RECLAIMFUZZ_PRINT_VERDICTS") != nullptr;
  const std::vector<fs::path> seeds = TextFiles(kCorpus / "seeds");
  ASSERT_GE(seeds.size(), 8u);
  for (const fs::path& s : seeds) {
    const fuzz::Program p = Load(s);
    for (Variant v : Built()) {
      if (!storage::Info(v).registered) continue;  // a tree of the user's: no expected verdicts
      const fuzz::RunResult r = RunOn(p, v);
      const std::string name = s.filename().string();
      if (print) printf("%s %s %s\n", name.c_str(), storage::VariantName(v), r.finding.c_str());
      auto it = expected.find({name, storage::VariantName(v)});
      if (it == expected.end()) {
        ADD_FAILURE() << name << " on " << storage::VariantName(v) << ": no expected verdict (got " << r.finding << ")";
        continue;
      }
      EXPECT_EQ(r.finding, it->second) << name << " on " << storage::VariantName(v) << "\n" << check::FormatReport();
    }
  }
}

TEST(Corpus, EveryExpectedFindingHasAReproducer) {
  // docs/design.md §1: B1 and B2 on always-defer-v1, B3 on v4.
  std::set<std::pair<Variant, std::string>> have;
  for (const Repro& r : Reproducers()) have.insert({r.variant, r.finding});
  const bool b1 =
      have.count({Variant::kAlwaysDeferV1, "list-corruption"}) || have.count({Variant::kAlwaysDeferV1, "lost-object"});
  const bool b2 = have.count({Variant::kAlwaysDeferV1, "use-after-free"}) ||
                  have.count({Variant::kAlwaysDeferV1, "early-free"}) ||
                  have.count({Variant::kAlwaysDeferV1, "reader-saw-freed"});
  EXPECT_TRUE(b1) << "no B1 reproducer in corpus/storage_always_defer_v1_fuzz/regression";
  EXPECT_TRUE(b2) << "no B2 reproducer in corpus/storage_always_defer_v1_fuzz/regression";
  EXPECT_TRUE(have.count({Variant::kV4, "invalid-wait-context"}))
      << "no B3 reproducer in corpus/storage_v4_fuzz/regression";
}

// A use-after-free reproducer is ASan's: with the reclamation oracles on,
// the generic oracle reports the same free first (reader-saw-freed); with
// them off, ASan reports the stale access (ASan builds only).
TEST(Corpus, ReproducersGiveTheirFinding) {
  const std::vector<Repro> repros = Reproducers();
  ASSERT_FALSE(repros.empty());
  for (const Repro& r : repros) {
    const fuzz::RunResult res = RunOn(Load(r.path), r.variant);
    const std::string want = r.finding == "use-after-free" ? "reader-saw-freed" : r.finding;
    EXPECT_EQ(res.finding, want) << r.path << "\n" << check::FormatReport();
  }
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
TEST(CorpusDeathTest, UseAfterFreeReproducersEndInAsanReports) {
  for (const Repro& r : Reproducers()) {
    if (r.finding != "use-after-free") continue;
    fuzz::Program p = Load(r.path);
    if (storage::IsRealTree(r.variant)) fuzz::AsFuzzTargetsRun(p, r.variant);
    fuzz::RunOptions o;
    o.variant = r.variant;
    o.oracles.reader_saw_freed = false;
    o.oracles.early_free = false;
    EXPECT_DEATH(fuzz::RunProgram(p, o), "heap-use-after-free") << r.path;
  }
}
#endif
#endif

std::vector<fs::path> WholeCorpus() {
  std::vector<fs::path> all = TextFiles(kCorpus / "seeds");
  for (const Repro& r : Reproducers()) all.push_back(r.path);
  return all;
}

// The variants the registry expects clean (always-defer-fixed+map-free-fix,
// linux-*+map-free-fix) find nothing in the whole corpus, every map_free
// reproducer (model and real trees) included.
TEST(Corpus, CleanVariantsFindNothingInTheWholeCorpus) {
  const std::vector<fs::path> all = WholeCorpus();
  int clean = 0;
  for (Variant v : Built()) {
    if (!storage::Info(v).registered || !storage::Info(v).known.empty()) continue;
    ++clean;
    for (const fs::path& p : all) {
      const fuzz::RunResult r = RunOn(Load(p), v);
      EXPECT_EQ(r.finding, "none") << p << " on " << storage::VariantName(v) << "\n" << check::FormatReport();
    }
  }
  EXPECT_GE(clean, 1) << "no variant of this build is expected clean";
}

// The seed patch's fixed form on real code: every reproducer of the posted
// form (B1, B2, its NMI call_rcu()) replays clean.
TEST(Corpus, SeedPatchFixedFormHasNoneOfB1B2) {
  absl::StatusOr<Variant> posted = storage::ParseVariant("linux-6.12+always-defer-v1");
  absl::StatusOr<Variant> fixed = storage::ParseVariant("linux-6.12+always-defer-fixed");
  ASSERT_TRUE(posted.ok() && fixed.ok());
  if (!fuzz::VariantBuilt(*posted) || !fuzz::VariantBuilt(*fixed)) GTEST_SKIP() << "no 6.12 seed-patch trees";
  int n = 0;
  for (const Repro& r : Reproducers()) {
    if (r.variant != *posted) continue;
    ++n;
    const fuzz::RunResult res = RunOn(Load(r.path), *fixed);
    EXPECT_EQ(res.finding, "none") << r.path << "\n" << check::FormatReport();
  }
  EXPECT_GE(n, 4);
}

// The registry (engine/variants.txt) and the tree agree: every model
// variant is registered, every registered variant has its corpus folder,
// and every regression reproducer's finding is one its variant is known
// to have.
TEST(Registry, EveryVariantIsRegisteredWithACorpusFolder) {
  for (Variant v : storage::ModelVariants()) {
    EXPECT_TRUE(storage::Info(v).registered) << storage::VariantName(v) << " is not in engine/variants.txt";
  }
  for (Variant v : storage::AllVariants()) {
    if (!storage::Info(v).registered) continue;
    const fs::path dir = kCorpus / ("storage_" + storage::VariantIdent(v) + "_fuzz");
    EXPECT_TRUE(fs::is_directory(dir)) << storage::VariantName(v) << ": no corpus folder " << dir;
  }
}

TEST(Registry, EveryReproducedFindingIsAKnownFinding) {
  for (const Repro& r : Reproducers()) {
    const std::vector<std::string>& known = storage::Info(r.variant).known;
    EXPECT_NE(std::find(known.begin(), known.end(), r.finding), known.end())
        << r.path << ": " << r.finding << " is not a known finding of " << storage::VariantName(r.variant)
        << " in engine/variants.txt";
  }
}

TEST(Corpus, SrcuFixHasNoneOfTheB1ToB3Findings) {
  const std::set<std::string> b1_to_b3 = {"list-corruption", "lost-object",      "use-after-free",
                                          "early-free",      "reader-saw-freed", "invalid-wait-context"};
  // The map_free reproducers (reader-saw-freed outside always-defer-v1's
  // folder) are v4-srcu-fix's known map_free finding, not B2, and the
  // lost-object ones outside that folder its destroy timeout leak
  // (docs/findings/destroy-timeout-leak.md), not B1: they are checked by
  // ReproducersGiveTheirFinding and the clean variants.
  std::set<fs::path> not_b1_to_b3;
  for (const Repro& r : Reproducers()) {
    if ((r.finding == "reader-saw-freed" || r.finding == "lost-object") && r.variant != Variant::kAlwaysDeferV1) {
      not_b1_to_b3.insert(r.path);
    }
  }
  ASSERT_FALSE(not_b1_to_b3.empty());
  for (const fs::path& p : WholeCorpus()) {
    if (not_b1_to_b3.count(p)) continue;
    const fuzz::RunResult r = RunOn(Load(p), Variant::kV4SrcuFix);
    EXPECT_EQ(b1_to_b3.count(r.finding), 0u) << p << " gave " << r.finding << "\n" << check::FormatReport();
  }
}

TEST(Corpus, EveryInputRunTwiceGivesTheSameTraceHash) {
  for (const fs::path& p : WholeCorpus()) {
    const fuzz::Program prog = Load(p);
    for (Variant v : Built()) {
#ifdef RF_CORPUS_TSAN
      // A variant with a known use-after-free or list corruption races in
      // TSan's eyes on the inputs that reach it (TSan reports the bug the
      // oracles name); determinism is checked on it by the ASan build.
      const std::vector<std::string>& known = storage::Info(v).known;
      if (std::find(known.begin(), known.end(), "use-after-free") != known.end() ||
          std::find(known.begin(), known.end(), "list-corruption") != known.end()) {
        continue;
      }
#endif
      const fuzz::RunResult a = RunOn(prog, v);
      const fuzz::RunResult b = RunOn(prog, v);
      EXPECT_EQ(a.trace_hash, b.trace_hash) << p << " on " << storage::VariantName(v);
      EXPECT_EQ(a.finding, b.finding) << p << " on " << storage::VariantName(v);
    }
  }
}

}  // namespace
}  // namespace reclaimfuzz
