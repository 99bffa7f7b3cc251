// SPDX-License-Identifier: MIT
#include "tools/cli/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace reclaimfuzz::cli {
namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(const std::vector<std::string>& argv,
                                                              const SpawnOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("no command");
  std::unique_ptr<Subprocess> p(new Subprocess());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  // The child starts with default signal handlers and nothing blocked.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int pipe_fds[2] = {-1, -1};
  if (options.output_file.empty()) {
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.output_file.c_str(),
                                     O_WRONLY | O_CREAT | (options.append ? O_APPEND : O_TRUNC), 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s = *e;
    const size_t eq = s.find('=');
    env[s.substr(0, eq)] = s;
  }
  for (const std::string& s : options.env_set) env[s.substr(0, s.find('='))] = s;
  std::vector<char*> envp;
  for (auto& [k, v] : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  const int rc = argv[0].find('/') == std::string::npos
                     ? posix_spawnp(&p->pid_, cargv[0], &actions, &attr, cargv.data(), envp.data())
                     : posix_spawn(&p->pid_, cargv[0], &actions, &attr, cargv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (pipe_fds[1] >= 0) close(pipe_fds[1]);
  if (rc != 0) {
    if (pipe_fds[0] >= 0) close(pipe_fds[0]);
    p->pid_ = -1;
    return absl::NotFoundError(absl::StrCat("cannot run ", argv[0], ": ", strerror(rc)));
  }
  p->fd_ = pipe_fds[0];
  return p;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !Poll().has_value()) {
    Signal(SIGKILL);
    Wait();
  }
  if (fd_ >= 0) close(fd_);
}

bool Subprocess::Read(int timeout_ms, std::string* out) {
  if (fd_ < 0) return false;
  pollfd pfd{fd_, POLLIN, 0};
  const int n = poll(&pfd, 1, timeout_ms);
  if (n < 0) return errno == EINTR;
  if (n == 0) return true;
  char buf[1 << 14];
  const ssize_t got = read(fd_, buf, sizeof(buf));
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  if (got == 0) {
    close(fd_);
    fd_ = -1;
    return false;
  }
  out->append(buf, static_cast<size_t>(got));
  return true;
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0 && !status_.has_value()) kill(-pid_, sig);
}

void Subprocess::KillGroup() {
  if (pid_ > 0) kill(-pid_, SIGKILL);
}

std::optional<int> Subprocess::Poll() {
  if (status_.has_value() || pid_ <= 0) return status_;
  int st = 0;
  const pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) status_ = DecodeStatus(st);
  return status_;
}

int Subprocess::Wait() {
  while (!status_.has_value() && pid_ > 0) {
    int st = 0;
    const pid_t r = waitpid(pid_, &st, 0);
    if (r == pid_) {
      status_ = DecodeStatus(st);
    } else if (r < 0 && errno != EINTR) {
      status_ = 255;
    }
  }
  return status_.value_or(255);
}

bool InPath(const std::string& program) {
  const char* path = getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    if (access(absl::StrCat(dir, "/", program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

absl::StatusOr<int> RunLogged(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log) {
  SpawnOptions o;
  o.cwd = cwd;
  o.output_file = log;
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv, o);
  if (!p.ok()) return p.status();
  return (*p)->Wait();
}

}  // namespace reclaimfuzz::cli
