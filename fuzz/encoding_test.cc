// SPDX-License-Identifier: MIT
// The two encodings: total decoding, round trips, and errors people can act on.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/program.h"
#include "gtest/gtest.h"

namespace reclaimfuzz::fuzz {
namespace {

constexpr char kB2[] = R"(# B2: a sleepable reader keeps a value across a sleep
vcpus 2
map m0 task
owner o0 task
task cpu 0
  prog sleepable
    get m0 o0 create value 7
    sleep
    read r0 word 1
task cpu 1
  prog tracing
    delete m0 o0
  release owner o0
irq nmi cpu 1
  delete m0 o0
schedule
  at 12 pick 1
  at 40 pick 3
)";

TEST(TextForm, ParsesAllSections) {
  absl::StatusOr<Program> p = ParseText(kB2);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->num_vcpus, 2);
  ASSERT_EQ(p->tasks.size(), 2u);
  ASSERT_EQ(p->tasks[0].steps.size(), 1u);
  EXPECT_EQ(p->tasks[0].steps[0].prog, ProgKind::kSleepable);
  ASSERT_EQ(p->tasks[0].steps[0].ops.size(), 3u);
  EXPECT_EQ(p->tasks[0].steps[0].ops[0].kind, OpKind::kGet);
  EXPECT_EQ(p->tasks[0].steps[0].ops[0].flags, kFlagCreate);
  EXPECT_EQ(p->tasks[0].steps[0].ops[0].value, 7);
  EXPECT_EQ(p->tasks[1].steps[1].kind, StepKind::kReleaseOwner);
  ASSERT_EQ(p->irqs.size(), 1u);
  EXPECT_EQ(p->irqs[0].kind, IrqKind::kNmi);
  ASSERT_EQ(p->schedule.size(), 2u);
  EXPECT_EQ(p->schedule[1].step, 40u);
  EXPECT_EQ(p->schedule[1].action, 3);
}

TEST(TextForm, RoundTripsThroughBinaryAndText) {
  absl::StatusOr<Program> p = ParseText(kB2);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(DecodeBinary(EncodeBinary(*p)), *p);
  absl::StatusOr<Program> q = ParseText(FormatText(*p));
  ASSERT_TRUE(q.ok()) << q.status() << "\n" << FormatText(*p);
  EXPECT_EQ(*q, *p);
}

// rcu_trace_implies_rcu_gp() is not a program setting (docs/design.md §5):
// older files saying "on" mean what they meant; "off" was never a kernel.
TEST(TextForm, TraceImpliesRcuGpIsNotASetting) {
  absl::StatusOr<Program> plain = ParseText(kB2);
  absl::StatusOr<Program> old = ParseText(absl::StrCat("trace_implies_rcu_gp on\n", kB2));
  ASSERT_TRUE(plain.ok() && old.ok()) << old.status();
  EXPECT_EQ(*old, *plain);
  EXPECT_EQ(FormatText(*old).find("trace_implies"), std::string::npos) << FormatText(*old);
  absl::StatusOr<Program> off = ParseText("vcpus 2\ntrace_implies_rcu_gp off\n");
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(std::string(off.status().message()),
            "line 2, column 22: rcu_trace_implies_rcu_gp() is true in every kernel modelled: 'off' is "
            "not a setting");
}

struct ErrorCase {
  const char* text;
  const char* message;
};

TEST(TextForm, ErrorsNameLineAndColumn) {
  const ErrorCase cases[] = {
      {"vcpus 2\nmap m0 tusk\n", "line 2, column 8: unknown owner kind 'tusk' (task, sk, inode, cgroup)"},
      {"map m0 task\nowner o0 task\ntask cpu 0\n  prog tracing\n    gte m0 o0\n",
       "line 5, column 5: unknown keyword or op 'gte'"},
      {"map m0 task\ntask cpu 0\n  prog tracing\n    get m1 o0\n", "line 4, column 9: unknown map 'm1'"},
      {"vcpus 9\n", "line 1, column 7: expected a vCPU count (0 to 4), got '9'"},
      {"map m0 task\nowner o0 task\n  delete m0 o0\n", "line 3, column 3: op 'delete' outside a prog or irq"},
      {"schedule\n  at 5 pick 1\n  at 3 pick 0\n", "line 3, column 3: schedule steps must not decrease"},
      {"map m0 task\nowner o0 task\ntask cpu 0\n  prog tracing\n    read x0 word 1\n",
       "line 5, column 10: expected a held value r0..r7, got 'x0'"},
      {"task cpu 0\n  prog tracing\n    write r0 word 1\n", "line 3, column 20: expected 'value'"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<Program> p = ParseText(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(std::string(p.status().message()), c.message) << c.text;
  }
}

TEST(BinaryForm, DecodingIsTotalAndStable) {
  std::mt19937_64 rng(12345);
  int non_trivial = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> bytes(rng() % 160);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    if (!bytes.empty() && (i % 2) == 0) bytes[0] = kFormatVersion;
    const Program p = DecodeBinary(bytes);
    const std::vector<uint8_t> enc = EncodeBinary(p);
    const Program q = DecodeBinary(enc);
    ASSERT_EQ(q, p) << "input " << i;
    ASSERT_EQ(EncodeBinary(q), enc) << "input " << i;
    ASSERT_EQ(EncodeNormalized(p), enc) << "input " << i;  // a decoded program is normalized
    absl::StatusOr<Program> t = ParseText(FormatText(p));
    ASSERT_TRUE(t.ok()) << t.status() << "\n" << FormatText(p);
    ASSERT_EQ(*t, p) << FormatText(p);
    non_trivial += !p.tasks.empty();
  }
  EXPECT_GT(non_trivial, 1500);  // the random inputs really exercise the decoder
}

// Bit 2 of the configuration byte once turned rcu_trace_implies_rcu_gp()
// off; it is ignored, so old corpus files decode as the targets ran them.
TEST(BinaryForm, ConfigurationBitTwoIsIgnored) {
  absl::StatusOr<Program> p = ParseText(kB2);
  ASSERT_TRUE(p.ok());
  std::vector<uint8_t> bytes = EncodeBinary(*p);
  ASSERT_EQ(bytes[1] & 4, 0);
  bytes[1] |= 4;
  EXPECT_EQ(DecodeBinary(bytes), *p);
}

TEST(BinaryForm, EmptyAndForeignVersionsAreTheDefaultProgram) {
  const Program empty = DecodeBinary({});
  EXPECT_EQ(empty.maps.size(), 1u);
  EXPECT_EQ(empty.owners.size(), 1u);
  EXPECT_TRUE(empty.tasks.empty());
  const std::vector<uint8_t> v9 = {9, 0, 2, 0, 0, 0};
  EXPECT_EQ(DecodeBinary(v9), empty);
}

TEST(BinaryForm, OneByteMutationChangesOneOp) {
  absl::StatusOr<Program> p = ParseText(kB2);
  ASSERT_TRUE(p.ok());
  std::vector<uint8_t> bytes = EncodeBinary(*p);
  // The value byte of the first get is the last byte of its record.
  const Program before = DecodeBinary(bytes);
  size_t at = 0;
  for (size_t i = 2; i + 4 <= bytes.size(); i += 4) {
    if (bytes[i] == 6 && (bytes[i + 1] & 15) == static_cast<uint8_t>(OpKind::kGet)) {
      at = i + 3;
      break;
    }
  }
  ASSERT_NE(at, 0u);
  bytes[at] = 99;
  const Program after = DecodeBinary(bytes);
  EXPECT_EQ(after.tasks[0].steps[0].ops[0].value, 99);
  Program expect = before;
  expect.tasks[0].steps[0].ops[0].value = 99;
  EXPECT_EQ(after, expect);  // nothing else moved, the schedule included
}

TEST(AnyForm, PicksTextOrBinaryByContent) {
  const std::string text = kB2;
  absl::StatusOr<Program> a =
      DecodeAny(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  ASSERT_TRUE(a.ok());
  const std::vector<uint8_t> bin = EncodeBinary(*a);
  absl::StatusOr<Program> b = DecodeAny(bin);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
}

}  // namespace
}  // namespace reclaimfuzz::fuzz
