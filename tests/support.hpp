// Test support: real child processes with bounded waits.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpshare::test {

// Runs `fn` in a forked child that exits 0 when fn returns, 1 when it throws.
inline pid_t fork_child(const std::function<void()>& fn) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int code = 0;
    try {
      fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
      code = 1;
    } catch (...) {
      code = 1;
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  return pid;
}

inline int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Waits until process `pid` (any process, not only a child) has exited.
// Returns false on timeout.
inline bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  int fd = pidfd_open(pid);
  if (fd < 0) return true;  // already gone
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  ::close(fd);
  return r > 0;
}

// Waits for child `pid` to exit; kills it after `timeout`. Returns its exit
// code, or 128 + signal when killed by a signal, or -1 on timeout.
inline int wait_child(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  bool exited = wait_gone(pid, timeout);
  if (!exited) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!exited) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Forks n children running fn(i) and returns their exit codes.
inline std::vector<int> run_children(int n, const std::function<void(int)>& fn,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) pids.push_back(fork_child([&, i] { fn(i); }));
  std::vector<int> codes;
  for (pid_t p : pids) codes.push_back(wait_child(p, timeout));
  return codes;
}

// How many descriptors this process has open.
inline std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A pipe for one-way messages between a parent and a forked child.
class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    fds_[0] = -1;
  }
  void close_write() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }
  void write(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::write(fds_[1], s.data() + off, s.size() - off);
      if (n <= 0) throw std::runtime_error("pipe write failed");
      off += static_cast<std::size_t>(n);
    }
  }
  int write_fd() const { return fds_[1]; }
  int read_fd() const { return fds_[0]; }
  // Reads exactly n bytes, or throws after `timeout`.
  std::string read(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return read_until(n, false, timeout);
  }
  // Reads until every writer has closed, or throws after `timeout`.
  std::string read_to_end(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return read_until(std::string::npos, true, timeout);
  }

 private:
  std::string read_until(std::size_t n, bool to_end, std::chrono::milliseconds timeout) {
    std::string out;
    auto until = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      pollfd p{fds_[0], POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        throw std::runtime_error("pipe read timed out");
      char buf[256];
      ssize_t r = ::read(fds_[0], buf, std::min(sizeof buf, n - out.size()));
      if (r == 0 && to_end) break;
      if (r <= 0) throw std::runtime_error("pipe closed");
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }

  int fds_[2] = {-1, -1};
};

}  // namespace mpshare::test
