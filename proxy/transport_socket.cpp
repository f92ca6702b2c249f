#include "transport_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fd_registry.hpp"

namespace mpshare::detail {

namespace {
constexpr int socket_buffer_bytes = 4 * 1024 * 1024;
}  // namespace

SocketTransport::SocketTransport(int fd, std::string address)
    : fd_(fd), generation_(fork_generation()), address_(std::move(address)) {}

SocketTransport::~SocketTransport() {
  // After fork() the child's copy was closed by the atfork handler already.
  if (generation_ == fork_generation()) close_inherited_fd(fd_);
}

bool SocketTransport::usable() const {
  return generation_ == fork_generation();
}

void SocketTransport::lost(const std::string& why) const {
  throw ConnectionLost(address_ + ": " + why);
}

Transport::Io SocketTransport::read_some(char* dst, std::size_t n) {
  for (;;) {
    ssize_t r = ::recv(fd_, dst, n, MSG_DONTWAIT);
    if (r > 0) return {static_cast<std::size_t>(r)};
    if (r == 0) return {0, Wait::none, true};
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, Wait::readable};
    if (errno != EINTR) lost(std::string("recv: ") + std::strerror(errno));
  }
}

Transport::Io SocketTransport::write_some(const char* src, std::size_t n) {
  for (;;) {
    ssize_t r = ::send(fd_, src, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r >= 0) return {static_cast<std::size_t>(r)};
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, Wait::writable};
    if (errno != EINTR) lost(std::string("send: ") + std::strerror(errno));
  }
}

int connect_socket(int family, const sockaddr* sa, socklen_t len, Deadline deadline) {
  int fd = open_inherited_fd(
      [&] { return ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); });
  if (fd < 0) return -1;
  auto give_up = [fd](int e) {
    close_inherited_fd(fd);
    errno = e;
    return -1;
  };
  if (::connect(fd, sa, len) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) return give_up(errno);
    bool ready = wait_ready(fd, Transport::Wait::writable, deadline);
    int err = 0;
    socklen_t elen = sizeof err;
    if (!ready) return give_up(ETIMEDOUT);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
      return give_up(err ? err : errno);
  }
  int size = socket_buffer_bytes;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

}  // namespace mpshare::detail
