#include "connection.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>

#include "fd_registry.hpp"
#include "protocol/address.hpp"
#include "protocol/frame.hpp"
#include "protocol/handshake.hpp"

namespace mpshare {

AuthKey AuthKey::random() {
  std::string bytes(32, '\0');
  detail::random_bytes(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size());
  return from_string(std::move(bytes));
}

AuthKey AuthKey::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw AuthError("cannot read auth key file '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw AuthError("auth key file '" + path + "' is empty");
  return from_string(std::move(bytes));
}

namespace detail {

namespace {

constexpr int socket_buffer_bytes = 4 * 1024 * 1024;

int remaining_ms(Deadline d) {
  if (d.infinite) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      d.at - std::chrono::steady_clock::now() + std::chrono::microseconds(999));
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

int open_socket(const std::string& address, std::chrono::milliseconds timeout) {
  Address a = parse_address(address);
  Deadline deadline = Deadline::after(timeout);
  auto try_connect = [&](int family, const sockaddr* sa, socklen_t len) -> int {
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
      pollfd p{fd, POLLOUT, 0};
      int r = ::poll(&p, 1, remaining_ms(deadline));
      int err = 0;
      socklen_t elen = sizeof err;
      if (r <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
        return give_up(r == 0 ? ETIMEDOUT : (err ? err : errno));
    }
    return fd;
  };
  if (a.type == Address::Type::tls)
    throw std::invalid_argument("tls:// addresses are not supported by this client: " + address);
  int fd = -1;
  if (a.type == Address::Type::unix_socket) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (a.path.size() >= sizeof(sun.sun_path))
      throw std::invalid_argument("unix socket path too long: " + a.path);
    std::memcpy(sun.sun_path, a.path.c_str(), a.path.size() + 1);
    fd = try_connect(AF_UNIX, reinterpret_cast<sockaddr*>(&sun), sizeof sun);
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &res);
    if (rc != 0) throw ConnectionLost("cannot resolve '" + a.host + "': " + ::gai_strerror(rc));
    for (addrinfo* p = res; p && fd < 0; p = p->ai_next)
      fd = try_connect(p->ai_family, p->ai_addr, p->ai_addrlen);
    ::freeaddrinfo(res);
    if (fd >= 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
  }
  if (fd < 0) throw ConnectionLost("cannot connect to " + address + ": " + std::strerror(errno));
  int size = socket_buffer_bytes;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

}  // namespace

Connection::Connection(const std::string& address, const AuthKey& key,
                       const ConnectOptions& options)
    : address_(address), spin_(options.spin), max_frame_(options.max_frame) {
  generation_ = fork_generation();
  fd_ = open_socket(address, options.connect_timeout);
  Deadline deadline = Deadline::after(options.connect_timeout);
  Nonce server_nonce;
  {
    std::string hello(server_hello_size, '\0');
    receive_raw(hello.data(), hello.size(), deadline);
    try {
      server_nonce = read_server_hello(hello);
    } catch (const ProtocolError& e) {
      lost(e.what());
    }
  }
  const Nonce client_nonce = random_nonce();
  out = client_answer(key.bytes(), server_nonce, client_nonce);
  send_all(deadline);
  std::string verdict(server_verdict_size, '\0');
  try {
    receive_raw(verdict.data(), verdict.size(), deadline);
  } catch (const ConnectionLost&) {
    throw AuthError("server refused the authentication key (connection closed)");
  }
  try {
    check_server_verdict(key.bytes(), server_nonce, client_nonce, verdict);
  } catch (const AuthError&) {
    close();
    throw;
  }
}

Connection::~Connection() {
  close();
  for (int fd : passed_fds_) ::close(fd);
}

bool Connection::usable() const {
  return fd_ >= 0 && generation_ == fork_generation();
}

void Connection::close() {
  if (fd_ < 0) return;
  // After fork() the child's copy was closed by the atfork handler already.
  if (generation_ == fork_generation()) {
    close_inherited_fd(fd_);
  }
  fd_ = -1;
}

void Connection::lost(const std::string& why) {
  close();
  throw ConnectionLost(address_ + ": " + why);
}

void Connection::wait_ready(short events, Deadline deadline) {
  pollfd p{fd_, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return;
    // poll's timeout is capped (remaining_ms): only a passed deadline is one.
    if (r == 0 && !deadline.infinite && std::chrono::steady_clock::now() < deadline.at) continue;
    if (r == 0) {
      close();
      throw Timeout(address_ + ": no reply before the call's deadline");
    }
    if (errno != EINTR) lost(std::string("poll: ") + std::strerror(errno));
  }
}

void Connection::send_all(Deadline deadline) {
  std::size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_ready(POLLOUT, deadline);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      lost(std::string("send: ") + std::strerror(errno));
    }
  }
  out.clear();
}

void Connection::receive_raw(char* dst, std::size_t n, Deadline deadline) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd_, dst + got, n - got, 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == 0) {
      lost("server closed the connection");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_ready(POLLIN, deadline);
    } else if (errno != EINTR) {
      lost(std::string("recv: ") + std::strerror(errno));
    }
  }
}

// recvmsg rather than recv: descriptors the server passes (SCM_RIGHTS, Unix
// sockets only) would otherwise be discarded. Kept until take_fd().
ssize_t Connection::read_some(char* dst, std::size_t n) {
  iovec iov{dst, n};
  alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (r > 0 && msg.msg_controllen > 0) {
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
  return r;
}

int Connection::take_fd() {
  if (passed_fds_.empty()) return -1;
  int fd = passed_fds_.back();
  passed_fds_.pop_back();
  for (int other : passed_fds_) ::close(other);
  passed_fds_.clear();
  return fd;
}

FrameHeader Connection::receive(Deadline deadline, std::string_view& payload) {
  for (;;) {
    std::size_t avail = end_ - begin_;
    if (avail >= FrameHeader::size) {
      FrameHeader h = read_header(in_.data() + begin_);
      if (h.length > max_frame_)
        lost("reply of " + std::to_string(h.length) + " bytes exceeds the maximum frame size");
      if (!h.is_reply()) lost("protocol error: expected a reply frame");
      std::size_t total = FrameHeader::size + h.length;
      if (avail >= total) {
        payload = std::string_view(in_.data() + begin_ + FrameHeader::size, h.length);
        begin_ += total;
        return h;
      }
      if (in_.size() - begin_ < total) {
        // Compact, then grow to what this frame needs.
        std::memmove(in_.data(), in_.data() + begin_, avail);
        begin_ = 0;
        end_ = avail;
        if (in_.size() < total) in_.resize(total);
      }
    } else if (begin_ == end_) {
      begin_ = end_ = 0;
    }
    if (in_.size() < 64 * 1024) in_.resize(64 * 1024);
    if (end_ == in_.size()) {
      std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    ssize_t r = read_some(in_.data() + end_, in_.size() - end_);
    if (r > 0) {
      end_ += static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) lost("server closed the connection");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) lost(std::string("recv: ") + std::strerror(errno));
    if (spin_.count() > 0) {
      auto until = std::chrono::steady_clock::now() + spin_;
      bool got = false;
      while (std::chrono::steady_clock::now() < until) {
        r = read_some(in_.data() + end_, in_.size() - end_);
        if (r > 0) {
          end_ += static_cast<std::size_t>(r);
          got = true;
          break;
        }
        if (r == 0) lost("server closed the connection");
      }
      if (got) continue;
    }
    wait_ready(POLLIN, deadline);
  }
}

// ---- ClientCore -----------------------------------------------------------

namespace {

std::atomic<std::uint64_t> next_core_id{1};

// True once this thread's connection table is destroyed (thread exit, or
// process exit for the main thread, before static objects such as a static
// Manager are destroyed). Trivially destructible, so readable until the end.
thread_local bool t_connections_gone = false;

// This thread's connections, one per core. Closed when the thread exits,
// when their core is destroyed on this thread, or (destroyed on another
// thread) when this thread next opens a connection.
struct ThreadConnections {
  ~ThreadConnections() { t_connections_gone = true; }

  struct Entry {
    std::uint64_t core;
    std::weak_ptr<const ClientCore> owner;
    std::unique_ptr<Connection> conn;
  };
  std::vector<Entry> entries;
  std::uint64_t last_core = 0;
  Connection* last = nullptr;

  Connection* find(std::uint64_t core) {
    if (core == last_core && last) return last;
    for (auto& e : entries)
      if (e.core == core) {
        last_core = core;
        last = e.conn.get();
        return last;
      }
    return nullptr;
  }
  void erase(std::uint64_t core) {
    std::erase_if(entries, [&](const Entry& e) { return e.core == core || e.owner.expired(); });
    last_core = 0;
    last = nullptr;
  }
};

thread_local ThreadConnections t_connections;
thread_local ClientCore* t_decode_context = nullptr;

}  // namespace

ClientCore::ClientCore(std::string address, AuthKey key, ConnectOptions options)
    : id_(next_core_id++), address_(std::move(address)), key_(std::move(key)), options_(options) {
  parse_address(address_);  // validate early
}

ClientCore::~ClientCore() {
  if (!t_connections_gone) t_connections.erase(id_);
}

bool ClientCore::is_local() const {
  return address_.rfind("unix:", 0) == 0;
}

Connection& ClientCore::connection() {
  if (t_connections_gone) throw ConnectionLost(address_ + ": this thread is exiting");
  Connection* c = t_connections.find(id_);
  if (c && c->usable()) return *c;
  t_connections.erase(id_);  // a stale one, and those of destroyed cores
  auto conn = std::make_unique<Connection>(address_, key_, options_);
  Connection* raw = conn.get();
  t_connections.entries.push_back({id_, weak_from_this(), std::move(conn)});
  t_connections.last_core = id_;
  t_connections.last = raw;
  return *raw;
}

void ClientCore::disconnect_this_thread() {
  if (!t_connections_gone) t_connections.erase(id_);
}

std::string& ClientCore::request_buffer(Connection& c) {
  c.out.clear();
  return c.out;
}

std::uint64_t ClientCore::next_request(Connection& c) {
  return ++c.request;
}

std::string_view ClientCore::exchange(Connection& c, Deadline deadline) {
  const std::uint64_t request = c.request;
  std::string_view payload;
  FrameHeader h;
  try {
    c.send_all(deadline);
    h = c.receive(deadline, payload);
  } catch (...) {
    disconnect_this_thread();
    throw;
  }
  if (h.request != request) {
    disconnect_this_thread();
    throw ProtocolError("reply to request " + std::to_string(h.request) + " while waiting for " +
                        std::to_string(request));
  }
  if (h.op != 0) {
    try {
      throw_reply_error(h.op, payload);  // payload lives in the connection's buffer
    } catch (const ProtocolError&) {
      // The server may have lost the framing and closes.
      disconnect_this_thread();
      throw;
    }
  }
  return payload;
}

void ClientCore::exchange_batch(std::string frames, Deadline deadline, std::string& payloads,
                                std::vector<Reply>& replies) {
  Connection& c = connection();
  // Request ids are this connection's, given now: the batch may have been
  // filled before a fork, or before this thread's connection existed.
  const std::uint64_t first = c.request + 1;
  for (std::size_t at = 0; at < frames.size();) {
    FrameHeader h = read_header(frames.data() + at);
    h.request = ++c.request;
    write_header(h, frames.data() + at);
    at += FrameHeader::size + h.length;
  }
  c.out.swap(frames);
  const std::size_t n = c.request - first + 1;
  replies.assign(n, Reply{});
  std::vector<bool> seen(n, false);
  try {
    c.send_all(deadline);
    for (std::size_t got = 0; got < n; ++got) {
      std::string_view payload;
      FrameHeader h = c.receive(deadline, payload);
      const std::uint64_t i = h.request - first;
      if (h.request < first || i >= n || seen[i])
        throw ProtocolError("unexpected reply to request " + std::to_string(h.request));
      seen[i] = true;
      replies[i] = Reply{h.op, payloads.size(), payload.size()};
      payloads.append(payload);
    }
  } catch (...) {
    disconnect_this_thread();
    throw;
  }
  // As in exchange: after a protocol error the server closes the connection.
  for (const Reply& r : replies)
    if (static_cast<Errc>(r.status) == Errc::protocol_error) return disconnect_this_thread();
}

ClientCore* ClientCore::decode_context() {
  return t_decode_context;
}

std::shared_ptr<ClientCore> ClientCore::for_address(const std::string& address) {
  if (address == address_) return shared_from_this();
  return std::make_shared<ClientCore>(address, key_, options_);
}

DecodeContextScope::DecodeContextScope(ClientCore* core) : previous_(t_decode_context) {
  t_decode_context = core;
}
DecodeContextScope::~DecodeContextScope() {
  t_decode_context = previous_;
}

}  // namespace detail
}  // namespace mpshare
