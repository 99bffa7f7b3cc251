// SPDX-License-Identifier: MIT
// The HTML report without a browser: escaping, what the page embeds, the
// classes the known reproducers' events get, and replay --html's errors.
// html_report_browser_test.cc renders the pages in Chromium.
#include "tools/cli/html_report.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/replay.h"

namespace reclaimfuzz::cli {
namespace {
namespace fs = std::filesystem;

size_t Count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

ReplayResult Replay(const std::string& reproducer) {
  const std::string path = absl::StrCat(SourceDir(), "/corpus/storage_always_defer_v1_fuzz/regression/", reproducer);
  absl::StatusOr<fuzz::Program> p = LoadProgram(path);
  EXPECT_TRUE(p.ok()) << p.status();
  ReplayResult r = CaptureReplay(*p, storage::Variant::kAlwaysDeferV1);
  r.source = path;
  return r;
}

// Events of `r` whose classes include every one of `classes`.
std::vector<fuzz::TraceEvent> With(const ReplayResult& r, const std::vector<std::string>& classes) {
  std::vector<fuzz::TraceEvent> out;
  for (const fuzz::TraceEvent& e : r.events) {
    const std::string c = absl::StrCat(" ", EventClasses(e, r), " ");
    bool all = true;
    for (const std::string& want : classes) all &= absl::StrContains(c, absl::StrCat(" ", want, " "));
    if (all) out.push_back(e);
  }
  return out;
}

TEST(HtmlEscape, EscapesMarkup) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
}

TEST(JsonString, EscapesQuotesControlsAndScriptEnders) {
  EXPECT_EQ(JsonString("a\"b\\c\n\t"), R"("a\"b\\c\n\t")");
  EXPECT_EQ(JsonString("</script><!--&"), R"("\u003c/script\u003e\u003c!--\u0026")");
  EXPECT_EQ(JsonString(std::string("\x01\x7f", 2)), R"("\u0001\u007f")");
  EXPECT_EQ(JsonString("x\xe2\x80\xa8y\xe2\x80\xa9"), R"("x\u2028y\u2029")");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // other UTF-8 kept
}

// Hostile text everywhere the page shows text: nothing of it becomes markup.
TEST(HtmlReport, HostileTextStaysText) {
  const std::string evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>";
  ReplayResult r;
  r.variant = "always-defer-v1";
  r.finding.name = "early-free";
  r.finding.detail = evil;
  r.source = evil;
  r.program_text = evil;
  r.text = evil;
  r.num_vcpus = 1;
  r.task_names = {evil};
  r.finding.task = evil;
  r.finding.function = evil;
  r.finding.op = evil;
  r.op_names = {evil};
  r.finding.object = fuzz::FindingObject{};
  r.finding.object->id = 3;
  r.finding.object->type = evil;
  r.finding.object->alloc.function = evil;
  r.events.push_back({5, 3, evil, evil, sched::EventKind::kNote, 0, 0, 0, 0});
  r.events.push_back({6, 3, "early-free", "", sched::EventKind::kNote, 0, 0, 0, 0});
  r.finding.step = 6;
  r.total_events = 2;
  const std::string page = RenderHtmlReport(r);
  EXPECT_FALSE(absl::StrContains(page, "<script>alert"));
  EXPECT_FALSE(absl::StrContains(page, "<img"));
  // The page's own two script elements, and no other.
  EXPECT_EQ(Count(page, "</script>"), 2u);
  EXPECT_EQ(Count(page, "<script"), 2u);
  EXPECT_TRUE(absl::StrContains(page, "&lt;/script&gt;&lt;script&gt;alert(1)"));
  EXPECT_TRUE(absl::StrContains(page, R"(\u003c/script\u003e\u003cscript\u003ealert(1))"));
}

// Self-contained: no URL, no external resource, a policy that forbids fetches.
TEST(HtmlReport, NothingFromTheNetwork) {
  const std::string page = RenderHtmlReport(Replay("early-free-2.txt"));
  EXPECT_FALSE(absl::StrContains(page, "http:"));
  EXPECT_FALSE(absl::StrContains(page, "https:"));
  EXPECT_FALSE(absl::StrContains(page, "src="));
  EXPECT_FALSE(absl::StrContains(page, "<link"));
  EXPECT_FALSE(absl::StrContains(page, "@import"));
  EXPECT_TRUE(absl::StrContains(page, "Content-Security-Policy\" content=\"default-src 'none'"));
}

// B2 on two vCPUs: the unlink, the two regular grace periods, the free, and
// the finding at the free, with the object's sites in the header.
TEST(HtmlReport, EarlyFreeEvents) {
  const ReplayResult r = Replay("early-free-2.txt");
  ASSERT_EQ(r.finding.name, "early-free");
  ASSERT_TRUE(r.finding.object.has_value());
  EXPECT_EQ(r.num_vcpus, 2);
  EXPECT_EQ(r.finding.vcpu, 1);
  EXPECT_EQ(r.finding.object->alloc.function, "bpf_selem_alloc");
  EXPECT_EQ(r.finding.object->free.function, "bpf_selem_free_rcu");
  const auto bad = With(r, {"bad-access"});
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].vcpu, 1);
  EXPECT_EQ(bad[0].step, r.finding.step);
  const auto freed = With(r, {"free", "finding-object"});
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0].step, r.finding.object->free.step);
  EXPECT_EQ(With(r, {"unlink", "finding-object"}).size(), 1u);
  EXPECT_EQ(With(r, {"alloc", "finding-object"}).size(), 1u);
  EXPECT_EQ(With(r, {"gp-end"}).size(), 2u);  // two regular GPs, no trace GP
  EXPECT_FALSE(With(r, {"lock"}).empty());
  EXPECT_FALSE(With(r, {"rcu-read"}).empty());
  const std::string page = RenderHtmlReport(r);
  const fuzz::FindingObject& o = *r.finding.object;
  EXPECT_TRUE(absl::StrContains(page, absl::StrCat("by bpf_selem_alloc at step ", o.alloc.step, " in T0")));
  EXPECT_TRUE(absl::StrContains(page, absl::StrCat("by bpf_selem_free_rcu at step ", o.free.step, " in ksoftirqd/1")));
  EXPECT_TRUE(absl::StrContains(page, "<span class=\"finding\" id=\"finding\">early-free</span>"));
}

// B1: the finding fires inside the NMI (depth 2) on vCPU 0.
TEST(HtmlReport, ListCorruptionInsideTheNmi) {
  const ReplayResult r = Replay("list-corruption.txt");
  ASSERT_EQ(r.finding.name, "list-corruption");
  const auto enter = With(r, {"irq-enter"});
  ASSERT_EQ(enter.size(), 1u);
  EXPECT_EQ(enter[0].depth, 2);
  const auto bad = With(r, {"bad-access"});
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].depth, 2);
  EXPECT_EQ(bad[0].vcpu, 0);
  // The task's two deletes, then the NMI's.
  EXPECT_GE(With(r, {"unlink"}).size(), 3u);
}

TEST(HtmlReport, NoFindingStillRenders) {
  absl::StatusOr<fuzz::Program> p = LoadProgram(absl::StrCat(SourceDir(), "/corpus/seeds/lifecycle.txt"));
  ASSERT_TRUE(p.ok()) << p.status();
  const ReplayResult r = CaptureReplay(*p, storage::Variant::kAlwaysDeferFixed);
  EXPECT_EQ(r.finding.name, "none");
  EXPECT_TRUE(With(r, {"bad-access"}).empty());
  const std::string page = RenderHtmlReport(r);
  EXPECT_TRUE(absl::StrContains(page, "<span class=\"finding none\" id=\"finding\">none</span>"));
}

class ReplayHtml : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("rf_html_test_", getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  int Run(const Args& args) {
    out_.str("");
    err_.str("");
    return ReplayMain(args, out_, err_);
  }
  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(ReplayHtml, WritesThePageAndKeepsTheTextOutput) {
  const std::string input = absl::StrCat(SourceDir(), "/corpus/storage_always_defer_v1_fuzz/regression/early-free.txt");
  const std::string page = (dir_ / "p.html").string();
  EXPECT_EQ(Run({"--variant", "always-defer-v1", "--html", page, input}), kExitFinding);
  EXPECT_TRUE(absl::EndsWith(out_.str(), "finding: early-free\n"));
  absl::StatusOr<std::string> html = ReadFile(page);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_TRUE(absl::StartsWith(*html, "<!DOCTYPE html>"));
  EXPECT_TRUE(absl::StrContains(*html, input));
  EXPECT_FALSE(fs::exists(page + ".tmp"));
}

TEST_F(ReplayHtml, OneInputOnly) {
  const std::string seeds = absl::StrCat(SourceDir(), "/corpus/seeds/");
  EXPECT_EQ(
      Run({"--variant", "v4", "--html", (dir_ / "p.html").string(), seeds + "lifecycle.txt", seeds + "nmi_delete.txt"}),
      kExitUsage);
  EXPECT_EQ(err_.str(), "reclaimfuzz replay: --html writes one page: give exactly one input file (got 2)\n");
}

TEST_F(ReplayHtml, UnwritablePathIsOneLine) {
  const std::string page = (dir_ / "no" / "such" / "p.html").string();
  EXPECT_EQ(Run({"--variant", "v4", "--html", page, absl::StrCat(SourceDir(), "/corpus/seeds/lifecycle.txt")}),
            kExitUsage);
  EXPECT_TRUE(absl::StartsWith(err_.str(), "reclaimfuzz replay: cannot write " + page + ": ")) << err_.str();
  EXPECT_EQ(Count(err_.str(), "\n"), 1u);
}

}  // namespace
}  // namespace reclaimfuzz::cli
