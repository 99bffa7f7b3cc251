// SPDX-License-Identifier: MIT
#include "tools/cli/durable.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace reclaimfuzz::cli {
namespace fs = std::filesystem;

namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat("cannot ", what, " ", path, ": ", strerror(errno)));
}

void SyncDir(const std::string& dir) {
  const int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

}  // namespace

std::string Sha1Hex(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest fails only when out of memory or without a SHA-1 provider;
  // a name must never be made up, so that is fatal.
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr) != 1 || len != 20) {
    fprintf(stderr, "reclaimfuzz: OpenSSL's SHA-1 (EVP_Digest) failed\n");
    abort();
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

absl::Status WriteFileAtomic(const std::string& path, absl::string_view data) {
  const fs::path p(path);
  const std::string dir = p.parent_path().string();
  const std::string tmp = (p.parent_path() / absl::StrCat(".", p.filename().string(), ".tmp.", getpid())).string();
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("write", tmp);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = Errno("write", tmp);
      close(fd);
      unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    absl::Status s = Errno("write", tmp);
    unlink(tmp.c_str());
    return s;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("rename to", path);
    unlink(tmp.c_str());
    return s;
  }
  SyncDir(dir);
  return absl::OkStatus();
}

absl::Status ExchangeDirs(const std::string& a, const std::string& b) {
  if (renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0) {
    return absl::InternalError(absl::StrCat("cannot exchange ", a, " and ", b, ": ", strerror(errno)));
  }
  SyncDir(fs::path(a).parent_path().string());
  return absl::OkStatus();
}

void SyncFileSystem(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  syncfs(fd);
  close(fd);
}

bool ContentMatchesName(const std::string& name, absl::string_view content) {
  if (name.size() < 40) return true;
  const std::string tail = name.substr(name.size() - 40);
  if (name.size() > 40 && name[name.size() - 41] != '-') return true;
  for (char c : tail) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || absl::ascii_isupper(static_cast<unsigned char>(c)))
      return true;
  }
  return Sha1Hex(content) == tail;
}

}  // namespace reclaimfuzz::cli
