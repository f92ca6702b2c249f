#include "server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "dispatch.hpp"
#include "log.hpp"
#include "protocol/address.hpp"
#include "protocol/frame.hpp"
#include "protocol/handshake.hpp"

namespace mpshare::server {

using namespace mpshare::detail;

namespace {

constexpr std::size_t min_read_buffer = 64 * 1024;
constexpr int socket_buffer_bytes = 4 * 1024 * 1024;

template <class Socket>
void tune_socket(Socket& s) {
  asio::error_code ec;
  if constexpr (std::is_same_v<typename Socket::protocol_type, asio::ip::tcp>)
    s.set_option(asio::ip::tcp::no_delay(true), ec);
  s.set_option(asio::socket_base::send_buffer_size(socket_buffer_bytes), ec);
  s.set_option(asio::socket_base::receive_buffer_size(socket_buffer_bytes), ec);
}

// One client connection: handshake, then frames. Lifetime: shared_ptr held
// by the server's session map, in-flight async operations and parked calls.
template <class Protocol>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Protocol>> {
 public:
  using Socket = typename Protocol::socket;

  Session(Server& server, Socket socket)
      : SessionBase(server.next_session_id()),
        server_(server),
        socket_(std::move(socket)),
        timer_(server.io()) {}

  void start() {
    tune_socket(socket_);
    server_nonce_ = random_nonce();
    out_ += server_hello(server_nonce_);
    timer_.expires_after(server_.options().handshake_timeout);
    timer_.async_wait([self = this->shared_from_this()](asio::error_code ec) {
      if (!ec && !self->authenticated_) {
        log(LogLevel::warn, "session " + std::to_string(self->id()) + ": handshake timed out");
        self->close();
      }
    });
    flush();
    do_read();
  }

  ~Session() override {
    for (auto& m : fd_marks_) ::close(m.fd);
  }

  void flush() override {
    if (closed_ || writing_ || out_.empty()) {
      if (draining_ && !writing_ && out_.empty()) close();
      return;
    }
    writing_ = true;
    if (!fd_marks_.empty()) {
      // Bytes before the first descriptor go out as usual; the byte it
      // travels with goes out through sendmsg once they are written.
      if (fd_marks_.front().offset == 0) return send_with_fd();
      pending_.assign(out_, 0, fd_marks_.front().offset);
      consume_out(pending_.size());
    } else {
      pending_.swap(out_);
    }
    asio::async_write(socket_, asio::buffer(pending_),
                      [self = this->shared_from_this()](asio::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->pending_.clear();
                        if (ec) return self->close();
                        self->flush();
                      });
  }

  // Finish writing what is queued, then close.
  void stop() override {
    draining_ = true;
    flush();
  }

  bool attach_fd(int fd) override {
    if constexpr (!std::is_same_v<Protocol, asio::local::stream_protocol>) {
      return false;
    } else {
      int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (copy < 0) return false;
      fd_marks_.push_back({out_.size(), copy});
      return true;
    }
  }

 private:
  void do_read() {
    if (closed_ || draining_) return;
    if (end_ == in_.size()) grow();
    socket_.async_read_some(
        asio::buffer(in_.data() + end_, in_.size() - end_),
        [self = this->shared_from_this()](asio::error_code ec, std::size_t n) {
          if (ec) {
            if (ec != asio::error::eof && ec != asio::error::operation_aborted &&
                ec != asio::error::connection_reset)
              log(LogLevel::info,
                  "session " + std::to_string(self->id()) + ": read: " + ec.message());
            return self->close();
          }
          self->end_ += n;
          self->process();
          self->flush();
          self->do_read();
        });
  }

  // Makes room at the end of the buffer: compacts, then grows by what the
  // pending frame needs (never more than twice what has arrived).
  void grow() {
    if (begin_ > 0) {
      std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (end_ < in_.size()) return;
    }
    std::size_t need = min_read_buffer;
    if (end_ >= FrameHeader::size) need = FrameHeader::size + read_header(in_.data()).length;
    std::size_t size = std::max({min_read_buffer, in_.size() * 2});
    if (need > in_.size()) size = std::min(size, need);
    in_.resize(std::max(size, in_.size() + 1));
  }

  void process() {
    if (!authenticated_ && !handshake()) return;
    const std::shared_ptr<SessionBase> self = this->shared_from_this();
    while (!closed_ && !draining_) {
      std::size_t avail = end_ - begin_;
      if (avail < FrameHeader::size) break;
      FrameHeader h = read_header(in_.data() + begin_);
      if (h.length > server_.options().max_frame) {
        const std::string why = "frame of " + std::to_string(h.length) +
                                " bytes exceeds the maximum " +
                                std::to_string(server_.options().max_frame);
        log(LogLevel::warn, "session " + std::to_string(id()) + ": " + why);
        append_error(out_, h, Errc::protocol_error, why);
        stop();
        return;
      }
      if (avail < FrameHeader::size + h.length) break;
      std::string_view payload(in_.data() + begin_ + FrameHeader::size, h.length);
      begin_ += FrameHeader::size + h.length;
      if (h.is_reply()) {
        log(LogLevel::warn, "session " + std::to_string(id()) + ": reply frame from a client");
        append_error(out_, h, Errc::protocol_error, "clients send requests, not replies");
        continue;
      }
      server_.dispatcher().dispatch(self, h, payload);
    }
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Returns true once authenticated; false while waiting or after failing.
  bool handshake() {
    if (end_ - begin_ < client_answer_size) return false;
    ServerVerdict verdict = server_verdict(
        server_.options().key, server_nonce_, std::string_view(in_.data() + begin_, client_answer_size));
    out_ += verdict.bytes;
    if (!verdict.accepted) {
      log(LogLevel::warn, "session " + std::to_string(id()) + ": authentication failed");
      stop();
      return false;
    }
    begin_ += client_answer_size;
    authenticated_ = true;
    timer_.cancel();
    return true;
  }

  // Drops the first n bytes of out_ (already sent).
  void consume_out(std::size_t n) {
    out_.erase(0, n);
    for (auto& m : fd_marks_) m.offset -= n;
  }

  // Sends the bytes up to the next mark with the first mark's descriptor
  // attached; writing_ is set. Waits for writability without blocking.
  void send_with_fd() {
    const FdMark mark = fd_marks_.front();
    std::size_t n = fd_marks_.size() > 1 ? fd_marks_[1].offset : out_.size();
    iovec iov{out_.data(), n};
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
    std::memcpy(CMSG_DATA(cm), &mark.fd, sizeof(int));
    ssize_t r = ::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      socket_.async_wait(Socket::wait_write,
                         [self = this->shared_from_this()](asio::error_code ec) {
                           if (ec || self->closed_) return self->close();
                           self->send_with_fd();
                         });
      return;
    }
    writing_ = false;
    if (r <= 0) return close();
    ::close(mark.fd);
    fd_marks_.pop_front();
    consume_out(static_cast<std::size_t>(r));
    flush();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ec;
    socket_.shutdown(Socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
    server_.session_closed(id());
  }

  Server& server_;
  Socket socket_;
  asio::steady_timer timer_;
  Nonce server_nonce_{};
  bool authenticated_ = false;
  bool writing_ = false;
  bool draining_ = false;
  std::vector<char> in_;
  std::size_t begin_ = 0, end_ = 0;
  std::string pending_;  // being written
  // Descriptors to send with the byte at `offset` of out_ (owned copies).
  struct FdMark {
    std::size_t offset;
    int fd;
  };
  std::deque<FdMark> fd_marks_;
};

}  // namespace

class Server::ListenerBase {
 public:
  virtual ~ListenerBase() = default;
  virtual void close() = 0;
};

template <class Protocol>
class Server::Listener final : public Server::ListenerBase {
 public:
  Listener(Server& server, typename Protocol::endpoint ep, std::string unix_path)
      : server_(server), acceptor_(server.io()), unix_path_(std::move(unix_path)) {
    acceptor_.open(ep.protocol());
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>)
      acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (!unix_path_.empty()) {
      // Private from birth: no window in which another user can connect.
      mode_t old = ::umask(0177);
      asio::error_code ec;
      acceptor_.bind(ep, ec);
      ::umask(old);
      if (ec) throw std::system_error(ec, "bind unix:" + unix_path_);
      ::chmod(unix_path_.c_str(), 0600);
    } else {
      acceptor_.bind(ep);
    }
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }
  ~Listener() override {
    close();
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  }

  typename Protocol::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start() { do_accept(); }
  void close() override {
    asio::error_code ec;
    acceptor_.close(ec);
  }

 private:
  void do_accept() {
    acceptor_.async_accept([this](asio::error_code ec, typename Protocol::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec && !server_.stopping()) {
        auto s = std::make_shared<Session<Protocol>>(server_, std::move(socket));
        server_.add_session(s);
        s->start();
      } else if (ec) {
        log(LogLevel::warn, "accept: " + ec.message());
      }
      do_accept();
    });
  }

  Server& server_;
  typename Protocol::acceptor acceptor_;
  std::string unix_path_;
};

Server::Server(ServerOptions options) : options_(std::move(options)) {
  if (options_.listen.empty()) throw std::invalid_argument("no address to listen on");
  for (const auto& a : options_.listen) {
    Address addr = parse_address(a);
    if (addr.type == Address::Type::tls)
      throw std::invalid_argument("this server has no TLS listener: " + a);
    if (addr.type == Address::Type::unix_socket) {
      // A socket file no one answers on is stale: replace it. A live one is an error.
      struct stat st {};
      if (::lstat(addr.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        asio::local::stream_protocol::socket probe(io_);
        asio::error_code ec;
        probe.connect(asio::local::stream_protocol::endpoint(addr.path), ec);
        if (!ec) throw std::system_error(std::make_error_code(std::errc::address_in_use), a);
        ::unlink(addr.path.c_str());
      }
      auto l = std::make_unique<Listener<asio::local::stream_protocol>>(
          *this, asio::local::stream_protocol::endpoint(addr.path), addr.path);
      addresses_.push_back("unix:" + addr.path);
      l->start();
      listeners_.push_back(std::move(l));
    } else {
      asio::ip::tcp::resolver resolver(io_);
      auto results =
          resolver.resolve(addr.host, std::to_string(addr.port), asio::ip::resolver_base::passive);
      auto ep = results.begin()->endpoint();
      auto l = std::make_unique<Listener<asio::ip::tcp>>(*this, ep, std::string());
      auto bound = l->local_endpoint();
      std::string host = bound.address().to_string();
      if (bound.address().is_v6()) host = "[" + host + "]";
      addresses_.push_back("tcp://" + host + ":" + std::to_string(bound.port()));
      l->start();
      listeners_.push_back(std::move(l));
    }
  }
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](asio::error_code ec, int sig) {
      if (ec) return;
      log(LogLevel::info, std::string("signal ") + ::strsignal(sig) + ": stopping");
      stop_all();
    });
  }
  if (options_.lifeline_fd >= 0) {
    lifeline_ = std::make_unique<asio::posix::stream_descriptor>(io_, options_.lifeline_fd);
    watch_lifeline();
  }
}

Server::~Server() {
  registry_.shutdown();
  sessions_.clear();
  listeners_.clear();
}

void Server::watch_lifeline() {
  static char byte;
  lifeline_->async_read_some(asio::buffer(&byte, 1), [this](asio::error_code ec, std::size_t) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) return watch_lifeline();
    log(LogLevel::info, "owner process gone: stopping");
    stop_all();
  });
}

void Server::run() {
  if (options_.spin.count() <= 0) {
    io_.run();
    return;
  }
  // Low-latency mode: after any activity keep polling for `spin`, then block.
  while (!io_.stopped()) {
    if (io_.run_one() == 0) break;
    auto until = std::chrono::steady_clock::now() + options_.spin;
    while (std::chrono::steady_clock::now() < until && !io_.stopped()) {
      if (io_.poll() > 0) until = std::chrono::steady_clock::now() + options_.spin;
    }
  }
}

void Server::request_stop() {
  asio::post(io_, [this] { stop_all(); });
}

void Server::stop_all() {
  if (stopping_) return;
  stopping_ = true;
  for (auto& l : listeners_) l->close();
  asio::error_code ec;
  signals_.cancel(ec);
  if (lifeline_) lifeline_->cancel(ec);
  registry_.shutdown();
  auto sessions = sessions_;
  for (auto& [id, s] : sessions) s->stop();
  // A peer that does not read its replies does not hold the server up.
  drain_timer_.expires_after(std::chrono::seconds(2));
  drain_timer_.async_wait([this](asio::error_code e) {
    if (!e) io_.stop();
  });
  if (sessions_.empty()) drain_timer_.cancel();
}

void Server::add_session(std::shared_ptr<SessionBase> s) {
  sessions_.emplace(s->id(), std::move(s));
}

void Server::session_closed(SessionId id) {
  registry_.on_disconnect(id);
  sessions_.erase(id);
  if (stopping_ && sessions_.empty()) drain_timer_.cancel();
}

}  // namespace mpshare::server
