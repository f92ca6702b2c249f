// A hand-driven client for tests that speak the wire directly: send any
// bytes, read raw replies. Bounded waits throughout.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mpshare/detail/protocol.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "protocol/address.hpp"
#include "protocol/frame.hpp"
#include "protocol/handshake.hpp"

namespace mpshare::test {

class RawClient {
 public:
  explicit RawClient(const std::string& address) {
    auto a = detail::parse_address(address);
    if (a.type != detail::Address::Type::unix_socket) throw std::invalid_argument("unix only");
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, a.path.c_str(), sizeof(sun.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0)
      throw std::runtime_error("connect failed");
  }
  // Takes a connected socket of any family.
  explicit RawClient(int fd) : fd_(fd) {}
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }

  // Sends all of `bytes` unless the peer takes none for `timeout_ms`;
  // false then (part may have been sent).
  bool send_for(const std::string& bytes, int timeout_ms) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
    }
    return true;
  }

  // Exactly n bytes, or nullopt at EOF / error / after `timeout_ms`.
  std::optional<std::string> read(std::size_t n, int timeout_ms = 10000) {
    std::string out;
    while (out.size() < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
      char buf[4096];
      ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r <= 0) return std::nullopt;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }

  // True when the server closed the connection within `timeout_ms`.
  bool closed_by_peer(int timeout_ms = 10000) {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char buf[4096];
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) return true;
    }
  }

  // The client half of the handshake; true when the server accepted.
  bool handshake(const std::string& key, int timeout_ms = 10000) {
    auto hello = read(detail::server_hello_size, timeout_ms);
    if (!hello) return false;
    send(detail::client_answer(key, detail::read_server_hello(*hello), detail::random_nonce()));
    auto verdict = read(detail::server_verdict_size, timeout_ms);
    return verdict && (*verdict)[0] == 0;
  }

  // Reads one reply frame: header and payload.
  std::optional<std::pair<detail::FrameHeader, std::string>> reply() {
    auto h = read(detail::FrameHeader::size);
    if (!h) return std::nullopt;
    auto header = detail::read_header(h->data());
    auto payload = read(header.length);
    if (!payload) return std::nullopt;
    return std::make_pair(header, *payload);
  }

 private:
  int fd_ = -1;
};

inline std::string request(std::uint16_t op, std::uint64_t request, std::uint64_t object,
                           const std::string& payload) {
  std::string frame(detail::FrameHeader::size, '\0');
  detail::write_header({static_cast<std::uint32_t>(payload.size()), op, 0, request, object},
                       frame.data());
  return frame + payload;
}

}  // namespace mpshare::test
