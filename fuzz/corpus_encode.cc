// SPDX-License-Identifier: MIT
// Build-time helper: encodes text programs into the binary form fuzzers
// read. Usage: corpus_encode OUT_DIR FILE.txt...  (OUT_DIR/<stem>.bin each)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/program.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s OUT_DIR FILE.txt...\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
      return 1;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    absl::StatusOr<reclaimfuzz::fuzz::Program> p = reclaimfuzz::fuzz::ParseText(text);
    if (!p.ok()) {
      fprintf(stderr, "%s: %s\n", argv[i], std::string(p.status().message()).c_str());
      return 1;
    }
    const std::vector<uint8_t> bytes = reclaimfuzz::fuzz::EncodeBinary(*p);
    std::ofstream o(out / (std::filesystem::path(argv[i]).stem().string() + ".bin"), std::ios::binary);
    o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  return 0;
}
