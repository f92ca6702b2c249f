// Test support: whole programs run as child processes with bounded waits,
// mpshare-server among them, and a minimal HTTP client.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

namespace mpshare::test {

struct ProgramResult {
  int code = -1;  // exit code, 128 + signal, or -1 on timeout
  std::string out, err;
};

// Runs argv[0] with `args`, its stdout and stderr captured. In its own
// process group, which is killed as a whole on timeout (a browser's
// helpers included).
inline ProgramResult run_program(const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  Pipe out, err;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out.write_fd(), 1);
    ::dup2(err.write_fd(), 2);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  out.close_write();
  err.close_write();
  ProgramResult r;
  const auto until = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out.read_fd(), POLLIN, 0}, {err.read_fd(), POLLIN, 0}};
  int open = 2;
  bool timed_out = false;
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(fds, 2, static_cast<int>(left.count())) <= 0) {
      timed_out = true;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        fds[i].fd = -1;
        --open;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  if (timed_out) ::kill(-pid, SIGKILL);
  r.code = wait_child(pid, timed_out ? std::chrono::seconds(10) : timeout);
  ::kill(-pid, SIGKILL);  // helpers left behind by the program
  if (timed_out) r.code = -1;
  return r;
}

// A private directory, removed with its contents.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "mpshare-test-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// mpshare-server run in a private directory, with --address-file there, a
// key file of mode 0600 (unless `args` give --authkey-file) and a Unix
// socket (unless they give --listen or --config). Its stdout and stderr go
// to files (out_text(), log_text()). It gets --lifeline-fd, a pipe whose
// write end only this process holds, so it stops when this process dies
// however the test ends. Stopped with SIGTERM (SIGKILL after 10 s) when
// destroyed.
class ServerProgram {
 public:
  explicit ServerProgram(std::vector<std::string> args = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    // The value of `option` in `args` ("--option VALUE" or "--option=VALUE").
    const auto given = [&](const std::string& option) -> std::optional<std::string> {
      for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == option && i + 1 < args.size()) return args[i + 1];
        if (args[i].rfind(option + "=", 0) == 0) return args[i].substr(option.size() + 1);
      }
      return std::nullopt;
    };
    if (const auto key = given("--authkey-file")) {
      keyfile_ = *key;
    } else {
      keyfile_ = dir_ / "key";
      std::ofstream(keyfile_) << "a shared secret of 16 bytes or more";
      std::filesystem::permissions(
          keyfile_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
      args.insert(args.begin(), {"--authkey-file", keyfile_});
    }
    if (!given("--listen") && !given("--config"))
      args.insert(args.begin(), {"--listen", "unix:" + (dir_ / "s.sock")});
    address_file_ = dir_ / "addresses";
    const int out = ::open(out_file().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = ::open(log_file().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int lifeline[2];
    if (out < 0 || err < 0 || ::pipe2(lifeline, O_CLOEXEC) != 0) {
      ::close(out);
      ::close(err);
      throw std::runtime_error("cannot make the server's output files and lifeline");
    }
    lifeline_ = lifeline[1];
    args.insert(args.begin(), {MPSHARE_SERVER_BINARY, "--address-file", address_file_,
                               "--lifeline-fd", std::to_string(lifeline[0])});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::fcntl(lifeline[0], F_SETFD, 0);  // the server's; the write end closes on exec
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(lifeline[0]);
    ::close(out);
    ::close(err);
    if (pid_ < 0) {
      ::close(lifeline_);
      throw std::runtime_error("fork failed");
    }
    // The file appears whole once every listener is bound.
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!std::filesystem::exists(address_file_)) {
      if (std::chrono::steady_clock::now() > until ||
          wait_gone(pid_, std::chrono::milliseconds(5))) {
        stop();
        ::close(lifeline_);
        throw std::runtime_error("mpshare-server did not write its address file: " + log_text());
      }
    }
    std::istringstream lines(read_text(address_file_));
    for (std::string l; std::getline(lines, l);) addresses_.push_back(l);
  }
  ~ServerProgram() {
    stop();
    ::close(lifeline_);
  }
  ServerProgram(const ServerProgram&) = delete;
  ServerProgram& operator=(const ServerProgram&) = delete;

  // Waits for the server to exit by itself (SIGKILL after `timeout`);
  // its exit code (see wait_child).
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ <= 0) return code_;
    code_ = wait_child(pid_, timeout);
    pid_ = -1;
    return code_;
  }
  // Sends SIGTERM and returns the exit code (see wait_child).
  int stop() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    return wait_exit();
  }
  pid_t pid() const { return pid_; }
  const std::vector<std::string>& addresses() const { return addresses_; }
  // The first address starting with `scheme` ("tcp://", "http://", "unix:").
  std::string address(const std::string& scheme) const {
    for (const auto& a : addresses_)
      if (a.rfind(scheme, 0) == 0) return a;
    throw std::runtime_error("no " + scheme + " address");
  }
  const std::string& keyfile() const { return keyfile_; }
  const std::string& address_file() const { return address_file_; }
  const TempDir& dir() const { return dir_; }
  // What it wrote to stdout and to stderr (its log) so far.
  std::string out_text() const { return read_text(out_file()); }
  std::string log_text() const { return read_text(log_file()); }

 private:
  std::string out_file() const { return output_ / "stdout"; }
  std::string log_file() const { return output_ / "stderr"; }

  TempDir dir_, output_;  // output_ apart: dir_ holds what the server is given and writes
  std::string keyfile_, address_file_;
  std::vector<std::string> addresses_;
  int lifeline_ = -1;
  pid_t pid_ = -1;
  int code_ = -1;
};

struct HttpReply {
  int status = 0;
  std::string head, body;
};

// Sends `request` (raw bytes) to an IPv4 "http://HOST:PORT" and reads the
// reply until the server closes. Throws on timeout.
inline std::string http_exchange(const std::string& address, const std::string& request,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const std::string hp = address.substr(address.find("://") + 3);
  const auto colon = hp.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(hp.substr(colon + 1))));
  if (::inet_pton(AF_INET, hp.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    throw std::runtime_error("not an IPv4 address: " + address);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to " + address);
  }
  std::size_t off = 0;
  while (off < request.size()) {
    const ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer and close before reading it all
    off += static_cast<std::size_t>(n);
  }
  std::string reply;
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ::close(fd);
      throw std::runtime_error("no reply from " + address);
    }
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

inline HttpReply parse_http_reply(const std::string& reply) {
  HttpReply r;
  const auto end = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos)
    throw std::runtime_error("not an HTTP reply: " + reply.substr(0, 80));
  r.status = std::stoi(reply.substr(9, 3));
  r.head = reply.substr(0, end);
  r.body = reply.substr(end + 4);
  return r;
}

inline HttpReply http_get(const std::string& address, const std::string& path) {
  const std::string host = address.substr(address.find("://") + 3);
  return parse_http_reply(
      http_exchange(address, "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"));
}

}  // namespace mpshare::test
