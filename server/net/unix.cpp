#include "unix.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <asio/local/stream_protocol.hpp>
#include <cstring>

#include "session.hpp"
#include "socket.hpp"

namespace mpshare::server {

using UnixSocket = asio::local::stream_protocol::socket;

template <>
struct Transport<UnixSocket> : SocketTransport {
  static constexpr const char* name = "unix";
  static constexpr bool passes_fds = true;

  // The connecting process and user (SO_PEERCRED); unset when the kernel
  // does not say.
  static void credentials(UnixSocket& s, PeerInfo& peer) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return;
    peer.pid = cred.pid;
    peer.uid = cred.uid;
  }

  // Who the peer is, for AuthThrottle: its user (SO_PEERCRED).
  static std::string peer(UnixSocket& s) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
      return "an unknown unix peer";
    return "uid " + std::to_string(cred.uid);
  }

  // One non-blocking sendmsg of `bytes` with `fd` attached: the bytes sent,
  // or -1 with errno.
  static long send_with_fd(UnixSocket& s, std::string_view bytes, int fd) {
    iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    return ::sendmsg(s.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
};

namespace {

class UnixListener final : public Listener {
 public:
  UnixListener(const std::string& path, const NetContext& net)
      : path_(path), acceptor_(net, [&net](UnixSocket s) { start_session(net, std::move(s)); }) {
    replace_stale(net);
    asio::local::stream_protocol::endpoint ep(path_);
    auto& a = acceptor_.get();
    a.open(ep.protocol());
    // Private from birth: no window in which another user can connect.
    mode_t old = ::umask(0177);
    asio::error_code ec;
    a.bind(ep, ec);
    ::umask(old);
    if (ec) throw std::system_error(ec, "bind unix:" + path_);
    bound_ = true;
    ::chmod(path_.c_str(), 0600);
    a.listen(asio::socket_base::max_listen_connections);
    address_ = "unix:" + path_;
    acceptor_.start();
  }
  ~UnixListener() override {
    close();
    if (bound_) ::unlink(path_.c_str());
  }
  void close() override { acceptor_.close(); }

 private:
  // A socket file no one answers on is stale: replace it. A live one is an
  // error.
  void replace_stale(const NetContext& net) {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return;
    UnixSocket probe(net.io);
    asio::error_code ec;
    probe.connect(asio::local::stream_protocol::endpoint(path_), ec);
    if (!ec) throw std::system_error(std::make_error_code(std::errc::address_in_use), path_);
    ::unlink(path_.c_str());
  }

  std::string path_;
  bool bound_ = false;
  Acceptor<asio::local::stream_protocol> acceptor_;
};

}  // namespace

std::unique_ptr<Listener> listen_unix(const std::string& path, const NetContext& net) {
  return std::make_unique<UnixListener>(path, net);
}

}  // namespace mpshare::server
