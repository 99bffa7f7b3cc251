// SPDX-License-Identifier: MIT
// A main() for the fuzz targets in builds without a fuzzer engine (release,
// coverage): runs each file named on the command line once, as libFuzzer
// would run it, so the same target binaries replay a corpus everywhere.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
      return 1;
    }
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  fprintf(stderr, "%s: ran %d inputs\n", argv[0], argc - 1);
  return 0;
}
