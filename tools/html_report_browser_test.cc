// SPDX-License-Identifier: MIT
// The HTML report in a real browser: replay --html on known reproducers,
// then headless Chromium (Debian's `chromium`) loads each page from disk,
// and the test reads the DOM after the page's script ran (--dump-dom) and
// saves a screenshot into RF_TEST_OUTPUT_DIR.
//
// Skips, with a message, only when no chromium binary is found
// (RF_CHROMIUM, else chromium / chromium-browser on PATH);
// `tools/reclaimfuzz test` installs it.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"

#ifndef RF_TEST_OUTPUT_DIR
#error "RF_TEST_OUTPUT_DIR must name the folder for pages and screenshots"
#endif

namespace reclaimfuzz::cli {
namespace {
namespace fs = std::filesystem;

constexpr int kWidth = 1400;
constexpr int kHeight = 2000;

std::string FindChromium() {
  if (const char* env = getenv("RF_CHROMIUM"); env != nullptr && *env != '\0') return env;
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':', absl::SkipEmpty())) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; returns its stdout and sets *status.
std::string Shell(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  *status = pclose(p);
  return out;
}

size_t Count(const std::string& s, const std::regex& re) {
  return static_cast<size_t>(std::distance(std::sregex_iterator(s.begin(), s.end(), re), std::sregex_iterator()));
}

// Big-endian 32-bit at `at`.
uint32_t Be32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

class Browser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = FindChromium();
    if (chromium_.empty()) {
      GTEST_SKIP() << "no chromium found (RF_CHROMIUM, or chromium on PATH): install Debian's "
                      "chromium package (tools/reclaimfuzz deps) to run the browser tests";
    }
    out_ = fs::path(RF_TEST_OUTPUT_DIR);
    fs::create_directories(out_);
    std::string tmpl = (out_ / "profile-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    profile_ = tmpl;
  }
  void TearDown() override {
    if (!profile_.empty()) fs::remove_all(profile_);
  }

  // replay --html for one reproducer of always-defer-v1; returns the page.
  std::string Page(const std::string& reproducer) {
    const std::string input =
        absl::StrCat(SourceDir(), "/corpus/storage_always_defer_v1_fuzz/regression/", reproducer, ".txt");
    const std::string page = (out_ / (reproducer + ".html")).string();
    std::ostringstream out, err;
    EXPECT_EQ(ReplayMain({"--variant", "always-defer-v1", "--html", page, input}, out, err), kExitFinding) << err.str();
    return page;
  }

  std::string Chromium(const std::string& args, const std::string& log, int* status) {
    return Shell(absl::StrCat("timeout 120 ", Quote(chromium_),
                              " --headless --no-sandbox --disable-gpu --no-first-run"
                              " --user-data-dir=",
                              Quote(profile_), " ", args, " 2>", Quote(log)),
                 status);
  }

  // The DOM after the page's script ran.
  std::string Dom(const std::string& page) {
    int status = 0;
    const std::string dom = Chromium(absl::StrCat("--dump-dom ", Quote("file://" + page)), page + ".dom.log", &status);
    EXPECT_EQ(status, 0) << "chromium --dump-dom failed; see " << page << ".dom.log";
    std::ofstream(page + ".dom.html") << dom;
    return dom;
  }

  // A screenshot of the page; checks it is a PNG of the window's size and
  // not blank. Returns its path.
  std::string Screenshot(const std::string& page) {
    const std::string png = page.substr(0, page.size() - 5) + ".png";
    fs::remove(png);
    int status = 0;
    Chromium(absl::StrCat("--hide-scrollbars --window-size=", kWidth, ",", kHeight, " --screenshot=", Quote(png), " ",
                          Quote("file://" + page)),
             page + ".png.log", &status);
    EXPECT_EQ(status, 0) << "chromium --screenshot failed; see " << page << ".png.log";
    std::ifstream in(png, std::ios::binary);
    EXPECT_TRUE(in.good()) << "no screenshot at " << png;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_GE(bytes.size(), 24u);
    if (bytes.size() < 24) return png;
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(bytes.substr(12, 4), "IHDR");
    EXPECT_EQ(Be32(bytes, 16), static_cast<uint32_t>(kWidth));
    EXPECT_EQ(Be32(bytes, 20), static_cast<uint32_t>(kHeight));
    // A blank page of this size compresses to about 10 KB; the lanes' text
    // and colours make it several times that.
    EXPECT_GT(bytes.size(), 60000u) << png << " looks blank";
    return png;
  }

  std::string chromium_;
  fs::path out_;
  std::string profile_;
};

const std::regex kRendered(R"(<div id="timeline"[^>]*\bdata-rendered="1")");

// B2 on two vCPUs: both CPU lanes and the housekeeping lane, task segments,
// the free of the object and the bad access on cpu1, grace-period ends in
// the housekeeping lane.
TEST_F(Browser, EarlyFreeLanes) {
  const std::string dom = Dom(Page("early-free-2"));
  ASSERT_TRUE(std::regex_search(dom, kRendered)) << "the page's script did not finish";
  EXPECT_TRUE(std::regex_search(dom, std::regex(R"(<div id="timeline"[^>]*\bdata-vcpus="2")")));
  EXPECT_EQ(Count(dom, std::regex(R"(<section class="lane[ "])")), 3u);
  EXPECT_EQ(Count(dom, std::regex(R"(<section class="lane" data-vcpu="0")")), 1u);
  EXPECT_EQ(Count(dom, std::regex(R"(<section class="lane" data-vcpu="1")")), 1u);
  EXPECT_EQ(Count(dom, std::regex(R"(<section class="lane housekeeping" data-vcpu="-1")")), 1u);
  EXPECT_GE(Count(dom, std::regex(R"(<div class="segment" data-vcpu="0" data-task="T0")")), 1u);
  EXPECT_GE(Count(dom, std::regex(R"(<div class="segment" data-vcpu="1" data-task="T1")")), 1u);
  // Exactly one bad access, on cpu1, in ksoftirqd/1.
  const std::regex bad(R"(<div class="event [^"]*\bbad-access\b[^"]*"[^>]*>)");
  ASSERT_EQ(Count(dom, bad), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, bad));
  EXPECT_NE(m.str().find("data-vcpu=\"1\""), std::string::npos) << m.str();
  EXPECT_NE(m.str().find("data-task=\"ksoftirqd/1\""), std::string::npos) << m.str();
  EXPECT_EQ(Count(dom, std::regex(R"(<div class="event note free finding-object"[^>]*data-vcpu="1")")), 1u);
  EXPECT_EQ(Count(dom, std::regex(R"(<div class="event note unlink finding-object"[^>]*data-vcpu="1")")), 1u);
  EXPECT_EQ(Count(dom, std::regex(R"(<div class="event note gp-end"[^>]*data-vcpu="-1")")), 2u);
  EXPECT_GE(Count(dom, std::regex(R"(<div class="event point lock[^"]*"[^>]*data-vcpu="1")")), 2u);
  EXPECT_GE(Count(dom, std::regex(R"(<div class="rule gp-end")")), 2u);
  Screenshot(out_ / "early-free-2.html");
}

// B1: one vCPU; the NMI drawn nested on cpu0 over T0, the bad access inside it.
TEST_F(Browser, ListCorruptionNmiNested) {
  const std::string dom = Dom(Page("list-corruption"));
  ASSERT_TRUE(std::regex_search(dom, kRendered)) << "the page's script did not finish";
  EXPECT_EQ(Count(dom, std::regex(R"(<section class="lane[ "])")), 2u);
  EXPECT_EQ(Count(dom, std::regex(R"(<section class="lane" data-vcpu="0")")), 1u);
  EXPECT_EQ(Count(dom, std::regex(R"(<div class="irq nmi" data-vcpu="0" data-depth="2" data-task="T0")")), 1u);
  const std::regex bad(R"(<div class="event [^"]*\bbad-access\b[^"]*"[^>]*>)");
  ASSERT_EQ(Count(dom, bad), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, bad));
  EXPECT_NE(m.str().find("data-vcpu=\"0\""), std::string::npos) << m.str();
  EXPECT_NE(m.str().find("data-depth=\"2\""), std::string::npos) << m.str();
  EXPECT_EQ(Count(dom, std::regex(R"(<div class="event irq-enter"[^>]*data-depth="2")")), 1u);
  EXPECT_GE(Count(dom, std::regex(R"(<div class="event note unlink[^"]*"[^>]*data-depth="2")")), 2u);
  Screenshot(out_ / "list-corruption.html");
}

}  // namespace
}  // namespace reclaimfuzz::cli
