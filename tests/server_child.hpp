// Test support: an mpshare-server program run as a child process on a
// private Unix socket (plus any --listen given), its stderr kept in a file
// for the log tests. The destructor stops it (SIGTERM, then SIGKILL) and
// removes its directory.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace mpshare::test {

class ServerChild {
 public:
  explicit ServerChild(const std::vector<std::string>& extra_args = {}) {
    char tmpl[] = "/tmp/mpshare-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    key_file_ = dir_ + "/key";
    std::ofstream(key_file_) << "a key for the tests";
    address_ = "unix:" + dir_ + "/s.sock";
    std::vector<std::string> args = {MPSHARE_SERVER_BINARY, "--listen", address_, "--authkey-file",
                                     key_file_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    const std::string log = log_file();
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(err, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string text;
    const auto listens = static_cast<long>(std::count(args.begin(), args.end(), "--listen"));
    char buf[512];
    while (std::count(text.begin(), text.end(), '\n') < listens) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) break;
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("listening on ", 0) == 0) addresses_.push_back(line.substr(13));
    if (static_cast<long>(addresses_.size()) != listens) {
      stop();
      throw std::runtime_error("mpshare-server did not start: " + log_text());
    }
  }
  ~ServerChild() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ServerChild(const ServerChild&) = delete;
  ServerChild& operator=(const ServerChild&) = delete;

  const std::string& address() const { return address_; }
  const std::vector<std::string>& addresses() const { return addresses_; }
  const std::string& key_file() const { return key_file_; }
  pid_t pid() const { return pid_; }
  std::string log_file() const { return dir_ + "/stderr.log"; }
  std::string log_text() const {
    std::ifstream in(log_file());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Waits for the server to exit by itself; its exit code, or -1.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ <= 0) return exit_code_;
    exit_code_ = wait_child(pid_, timeout);
    pid_ = -1;
    return exit_code_;
  }
  // SIGTERM, then the exit code (SIGKILL after 10 s: -1).
  int stop() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    return wait_exit();
  }

 private:
  std::string dir_, key_file_, address_;
  std::vector<std::string> addresses_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace mpshare::test
