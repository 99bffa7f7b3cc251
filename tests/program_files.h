// SPDX-License-Identifier: MIT
// Loading checked-in programs (corpus/) in cross-module tests.
#ifndef RECLAIMFUZZ_TESTS_PROGRAM_FILES_H_
#define RECLAIMFUZZ_TESTS_PROGRAM_FILES_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fuzz/program.h"
#include "gtest/gtest.h"

namespace reclaimfuzz::testing {

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text program in `p`; a parse error fails the test (an empty program).
inline fuzz::Program LoadText(const std::filesystem::path& p) {
  absl::StatusOr<fuzz::Program> prog = fuzz::ParseText(Slurp(p));
  if (!prog.ok()) {
    ADD_FAILURE() << p << ": " << prog.status();
    return fuzz::Program{};
  }
  return *prog;
}

}  // namespace reclaimfuzz::testing

#endif  // RECLAIMFUZZ_TESTS_PROGRAM_FILES_H_
