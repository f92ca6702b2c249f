#include "mpshare/pipe.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "poll_wait.hpp"

namespace mpshare {

namespace detail {

// The two ends of one pipe, while this process holds them: how a child
// finds the peer of an end it was given.
struct PipeLink {
  std::atomic<PipeEnd*> ends[2] = {nullptr, nullptr};
};

struct PipeEnd {
  int fd = -1;
  bool can_read = false;
  bool can_write = false;
  bool handed_off = false;  // given to a child (set in that child only)
  std::size_t max_message = 0;
  std::shared_ptr<PipeLink> link;
  int side = 0;

  // Sender state.
  std::string frame;
  // Receiver state: bytes [begin, end) of buf are read and not yet taken;
  // `skip` bytes of a refused oversize message are still to be dropped.
  std::unique_ptr<char[]> buf;
  std::size_t cap = 0, begin = 0, end = 0, skip = 0;
  bool eof = false;

  ~PipeEnd() { close(); }
  void close() noexcept {
    if (link) link->ends[side].store(nullptr);
    link.reset();
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  std::size_t buffered() const { return end - begin; }

  // Room for `need` bytes from begin, keeping what is buffered.
  void reserve(std::size_t need) {
    if (begin > 0 && (begin == end || cap - begin < need)) {
      std::memmove(buf.get(), buf.get() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    if (cap - begin >= need) return;
    std::size_t n = std::max({need, cap * 2, std::size_t{64} * 1024});
    std::unique_ptr<char[]> nb(new char[n]);  // not zeroed: filled by read()
    if (end > begin) std::memcpy(nb.get(), buf.get() + begin, end - begin);
    buf = std::move(nb);
    end -= begin;
    begin = 0;
    cap = n;
  }

  // A complete buffered message, dropping what a refused one left.
  std::optional<std::string_view> take() {
    std::size_t n = std::min(skip, buffered());
    begin += n;
    skip -= n;
    if (skip > 0 || buffered() < 8) return std::nullopt;
    std::uint64_t len = 0;
    for (int i = 7; i >= 0; --i)
      len = (len << 8) | static_cast<unsigned char>(buf[begin + static_cast<std::size_t>(i)]);
    if (len > max_message) {
      begin += 8;
      skip = static_cast<std::size_t>(len);
      n = std::min(skip, buffered());
      begin += n;
      skip -= n;
      throw ValueError("received a message of " + std::to_string(len) +
                       " bytes, over the maximum of " + std::to_string(max_message) +
                       "; it was dropped");
    }
    if (buffered() < 8 + len) {
      reserve(8 + static_cast<std::size_t>(len));
      return std::nullopt;
    }
    std::string_view m(buf.get() + begin + 8, static_cast<std::size_t>(len));
    begin += 8 + static_cast<std::size_t>(len);
    return m;
  }

  // Reads what is available (blocking until something is); false at end of file.
  bool fill() {
    reserve(std::max<std::size_t>(buffered() + 1, 64 * 1024));
    for (;;) {
      ssize_t n = ::read(fd, buf.get() + end, cap - end);
      if (n > 0) {
        end += static_cast<std::size_t>(n);
        return true;
      }
      if (n == 0 || errno == ECONNRESET) return false;  // reset: the peer closed unread data
      if (errno != EINTR) throw ConnectionLost(std::string("pipe read: ") + std::strerror(errno));
    }
  }

  bool message_ready() const {
    if (eof) return true;
    if (buffered() <= skip || buffered() - skip < 8) return false;
    std::uint64_t len = 0;
    for (int i = 7; i >= 0; --i)
      len =
          (len << 8) | static_cast<unsigned char>(buf[begin + skip + static_cast<std::size_t>(i)]);
    return len > max_message || buffered() - skip - 8 >= len;
  }
};

void PipeEndDeleter::operator()(PipeEnd* end) const noexcept {
  delete end;
}

std::pair<PipeEndPtr, PipeEndPtr> make_pipe_ends(bool duplex, std::size_t max) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw StateError(std::string("socketpair: ") + std::strerror(errno));
  auto link = std::make_shared<PipeLink>();
  PipeEndPtr ends[2];
  for (int i = 0; i < 2; ++i) {
    ends[i].reset(new PipeEnd);
    ends[i]->fd = fds[i];
    ends[i]->can_read = duplex || i == 0;
    ends[i]->can_write = duplex || i == 1;
    ends[i]->max_message = max;
    ends[i]->link = link;
    ends[i]->side = i;
    link->ends[i].store(ends[i].get());
  }
  if (!duplex) {
    ::shutdown(fds[0], SHUT_WR);
    ::shutdown(fds[1], SHUT_RD);
  }
  return {std::move(ends[0]), std::move(ends[1])};
}

void close_handed_off(ConnectionBase& c) noexcept {
  c.close();
}

void mark_handed_off(ConnectionBase& c) noexcept {
  if (c.end_) c.end_->handed_off = true;
}

void close_peer_in_child(ConnectionBase& c) noexcept {
  if (!c.end_ || !c.end_->link) return;
  PipeEnd* peer = c.end_->link->ends[1 - c.end_->side].load();
  if (peer && !peer->handed_off) peer->close();
}

std::vector<ConnectionBase*> wait_ms(std::initializer_list<ConnectionBase*> ends,
                                     std::chrono::milliseconds timeout) {
  std::vector<ConnectionBase*> ready;
  std::vector<pollfd> fds;
  for (ConnectionBase* c : ends) {
    c->check_receive();
    if (c->end_->message_ready()) ready.push_back(c);
    fds.push_back({c->end_->fd, POLLIN, 0});
  }
  if (!ready.empty()) return ready;
  if (!poll_until_ready(fds.data(), fds.size(), timeout)) return ready;
  std::size_t i = 0;
  for (ConnectionBase* c : ends)
    if (fds[i++].revents != 0) ready.push_back(c);
  return ready;
}

}  // namespace detail

ConnectionBase::ConnectionBase(detail::PipeEndPtr end) : end_(std::move(end)) {}
ConnectionBase::ConnectionBase(ConnectionBase&&) noexcept = default;
ConnectionBase& ConnectionBase::operator=(ConnectionBase&&) noexcept = default;
ConnectionBase::~ConnectionBase() = default;

void ConnectionBase::close() noexcept {
  if (end_) end_->close();
}
bool ConnectionBase::closed() const noexcept {
  return !end_ || end_->fd < 0;
}
bool ConnectionBase::readable() const noexcept {
  return end_ && end_->can_read;
}
bool ConnectionBase::writable() const noexcept {
  return end_ && end_->can_write;
}
int ConnectionBase::fileno() const noexcept {
  return end_ ? end_->fd : -1;
}
std::size_t ConnectionBase::max_message() const noexcept {
  return end_ ? end_->max_message : 0;
}
void ConnectionBase::set_max_message(std::size_t bytes) {
  if (closed()) throw StateError("the connection is closed");
  end_->max_message = bytes;
}

void ConnectionBase::check_send() const {
  if (closed()) throw StateError("the connection is closed");
  if (!end_->can_write) throw StateError("this end of the pipe only receives");
}

void ConnectionBase::check_receive() const {
  if (closed()) throw StateError("the connection is closed");
  if (!end_->can_read) throw StateError("this end of the pipe only sends");
}

std::string& ConnectionBase::start_frame() {
  end_->frame.assign(8, '\0');
  return end_->frame;
}

void ConnectionBase::send_frame() {
  std::string& f = end_->frame;
  const std::size_t len = f.size() - 8;
  if (len > end_->max_message)
    throw ValueError("message of " + std::to_string(len) + " bytes is over the maximum of " +
                     std::to_string(end_->max_message));
  for (int i = 0; i < 8; ++i)
    f[static_cast<std::size_t>(i)] =
        static_cast<char>((static_cast<std::uint64_t>(len) >> (8 * i)) & 0xFF);
  std::size_t off = 0;
  while (off < f.size()) {
    ssize_t n = ::send(end_->fd, f.data() + off, f.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      throw ConnectionLost(off == 0 ? "the other end of the pipe is closed"
                                    : "the other end of the pipe closed during a send");
    } else {
      throw ConnectionLost(std::string("pipe send: ") + std::strerror(errno));
    }
  }
  if (f.capacity() > 1024 * 1024) std::string().swap(f);  // keep no large buffer around
}

std::optional<std::string_view> ConnectionBase::receive(std::chrono::milliseconds timeout) {
  check_receive();
  detail::PipeEnd& e = *end_;
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto m = e.take()) return m;
    if (e.eof) {
      if (e.buffered() > 0 || e.skip > 0)
        throw ConnectionLost("the other end of the pipe closed in the middle of a message");
      throw EOFError("the other end of the pipe is closed");
    }
    if (timeout.count() >= 0) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (!detail::wait_readable(e.fd, std::max(left, std::chrono::milliseconds(0))))
        return std::nullopt;
    }
    if (!e.fill()) e.eof = true;
  }
}

bool ConnectionBase::poll_for(std::chrono::milliseconds timeout) {
  check_receive();
  if (end_->message_ready()) return true;
  return detail::wait_readable(end_->fd, std::max(timeout, std::chrono::milliseconds(0)));
}

}  // namespace mpshare
