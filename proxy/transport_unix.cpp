// unix: addresses. The server may pass a descriptor with a reply (Value and
// Array shared memory), so reads go through recvmsg and keep what came.
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "protocol/address.hpp"
#include "transport_socket.hpp"

namespace mpshare::detail {

namespace {

class UnixTransport final : public SocketTransport {
 public:
  using SocketTransport::SocketTransport;
  ~UnixTransport() override {
    for (int fd : passed_fds_) ::close(fd);
  }

  Io read_some(char* dst, std::size_t n) override {
    iovec iov{dst, n};
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    for (;;) {
      ssize_t r = ::recvmsg(fd(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (r > 0) {
        keep_fds(msg);
        return {static_cast<std::size_t>(r)};
      }
      if (r == 0) return {0, Wait::none, true};
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, Wait::readable};
      if (errno != EINTR) lost(std::string("recv: ") + std::strerror(errno));
    }
  }

  int take_fd() override {
    if (passed_fds_.empty()) return -1;
    int fd = passed_fds_.back();
    passed_fds_.pop_back();
    for (int other : passed_fds_) ::close(other);
    passed_fds_.clear();
    return fd;
  }

 private:
  void keep_fds(msghdr& msg) {
    if (msg.msg_controllen == 0) return;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
      std::size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
        passed_fds_.push_back(fd);
      }
    }
  }

  std::vector<int> passed_fds_;  // kept until take_fd()
};

}  // namespace

std::unique_ptr<Transport> connect_unix(const Address& a, const std::string& address,
                                        Deadline deadline) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (a.path.size() >= sizeof(sun.sun_path))
    throw ValueError("unix socket path too long (" + std::to_string(a.path.size()) +
                     " bytes, at most " + std::to_string(sizeof(sun.sun_path) - 1) +
                     "): " + a.path);
  std::memcpy(sun.sun_path, a.path.c_str(), a.path.size() + 1);
  int fd = connect_socket(AF_UNIX, reinterpret_cast<sockaddr*>(&sun), sizeof sun, deadline);
  if (fd < 0) throw_connect_error(address, errno);
  return std::make_unique<UnixTransport>(fd, address);
}

}  // namespace mpshare::detail
