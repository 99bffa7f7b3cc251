// SPDX-License-Identifier: MIT
// Fuzzes the two encodings against each other (syzkaller's prog/test):
//   decode(bytes) -> encode -> decode gives the same program;
//   the text form of a program parses back to the same program;
//   encoding is a fixpoint after one decode.
// Any difference aborts with both forms printed.
#include <cstdio>
#include <cstdlib>

#include "fuzz/program.h"

namespace {

[[noreturn]] void Mismatch(const char* what, const reclaimfuzz::fuzz::Program& a, const reclaimfuzz::fuzz::Program& b) {
  fprintf(stderr, "program_roundtrip: %s\n--- first\n%s--- second\n%s", what, reclaimfuzz::fuzz::FormatText(a).c_str(),
          reclaimfuzz::fuzz::FormatText(b).c_str());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reclaimfuzz::fuzz;
  const Program p = DecodeBinary(absl::MakeConstSpan(data, size));
  const std::vector<uint8_t> bytes = EncodeBinary(p);
  const Program q = DecodeBinary(bytes);
  if (!(p == q)) Mismatch("decode(encode(p)) != p", p, q);
  if (EncodeBinary(q) != bytes) Mismatch("encode is not a fixpoint", p, q);
  const std::string text = FormatText(p);
  absl::StatusOr<Program> r = ParseText(text);
  if (!r.ok()) {
    fprintf(stderr, "program_roundtrip: text does not parse: %s\n%s", r.status().ToString().c_str(), text.c_str());
    abort();
  }
  if (!(*r == p)) Mismatch("parse(format(p)) != p", p, *r);
  return 0;
}
