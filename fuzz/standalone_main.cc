// SPDX-License-Identifier: MIT
// A main() for the fuzz targets in builds without a fuzzer engine (release,
// coverage): runs each file named on the command line once, as libFuzzer
// would run it, so the same target binaries replay a corpus everywhere.
//
// `-runs=N` (before the files), as libFuzzer's: each file is read once and
// run N times, and "Executed FILE in MS ms" is printed per file, as
// libFuzzer prints it, so executions are timed without the file reads.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long runs = 1;
  bool timed = false;
  int first = 1;
  for (; first < argc && strncmp(argv[first], "-runs=", 6) == 0; ++first) {
    char* end = nullptr;
    runs = strtol(argv[first] + 6, &end, 10);
    if (end == argv[first] + 6 || *end != '\0' || runs < 1) {
      fprintf(stderr, "%s: bad %s: want -runs=N with N >= 1\n", argv[0], argv[first]);
      return 1;
    }
    timed = true;
  }
  for (int i = first; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
      return 1;
    }
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto t0 = std::chrono::steady_clock::now();
    for (long r = 0; r < runs; ++r) LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    if (timed) {
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      fprintf(stderr, "Executed %s in %lld ms\n", argv[i], static_cast<long long>(ms));
    }
  }
  fprintf(stderr, "%s: ran %d inputs\n", argv[0], argc - first);
  return 0;
}
