// A session over one kind of stream: reads, writes and closes it; the rest
// is SessionCore. Included only by the transports, which specialize
// Transport<Stream> first. Used only on the event-loop thread.
#pragma once

#include <asio/write.hpp>
#include <cerrno>
#include <memory>

#include "../log.hpp"
#include "session_core.hpp"
#include "sessions.hpp"

namespace mpshare::server {

// What differs between streams (unix.hpp, tcp.hpp, tls.hpp):
//   static constexpr const char* name;       for log lines
//   static constexpr bool passes_fds;        SCM_RIGHTS (then send_with_fd)
//   static void start(Stream&, Handler);     handler(asio::error_code) once ready
//   static bool expected(asio::error_code);  an end of stream not worth a log line
//   static void close(Stream&);
//   static void credentials(Stream&, PeerInfo&); optional: the peer's pid and uid
//                                            (else its address is asked)
//   static std::string peer(Stream&);       who the peer is (AuthThrottle)
template <class Stream>
struct Transport;

template <class Stream>
class Session final : public SessionCore {
 public:
  using T = Transport<Stream>;

  Session(const NetContext& net, Stream stream) : SessionCore(net), stream_(std::move(stream)) {}

  // Call once, after construction into a shared_ptr.
  void start() {
    describe_peer();
    set_throttle_key(T::peer(stream_));
    log(LogLevel::info, tag() + ": connected");
    arm_handshake_timer();
    T::start(stream_, [self = shared()](const asio::error_code& ec) {
      if (ec) {
        log(LogLevel::warn, self->tag() + ": " + T::name + " handshake: " + ec.message());
        return self->close();
      }
      self->greet();
      self->do_read();
    });
  }

  bool attach_fd(int fd) override {
    if constexpr (T::passes_fds)
      return queue_.attach_fd(fd);
    else
      return false;
  }

 private:
  void describe_peer() {
    peer_.transport = T::name;
    if constexpr (requires { T::credentials(stream_, peer_); }) {
      T::credentials(stream_, peer_);
    } else {
      asio::error_code ec;
      const auto ep = stream_.lowest_layer().remote_endpoint(ec);
      if (ec) return;
      const auto a = ep.address();
      peer_.address =
          (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
    }
  }

  std::shared_ptr<Session> shared() {
    return std::static_pointer_cast<Session>(shared_from_this());
  }

  void read_more() override { do_read(); }

  void do_read() {
    if (!reading() || read_in_flight_) return;
    std::span<char> buf = read_buffer();
    read_in_flight_ = true;
    stream_.async_read_some(asio::buffer(buf.data(), buf.size()),
                            [self = shared()](asio::error_code ec, std::size_t n) {
                              self->read_in_flight_ = false;
                              if (ec) {
                                if (!T::expected(ec))
                                  log(LogLevel::info, self->tag() + ": read: " + ec.message());
                                return self->close();
                              }
                              self->received(n);
                              self->do_read();
                            });
  }

  void write(WriteQueue::Chunk chunk) override {
    if constexpr (T::passes_fds) {
      if (chunk.fd >= 0) return send_with_fd(chunk);
    }
    asio::async_write(stream_, asio::buffer(chunk.bytes.data(), chunk.bytes.size()),
                      [self = shared()](asio::error_code ec, std::size_t) { self->written(ec); });
  }

  // Sends the chunk and its descriptor with one sendmsg, waiting for
  // writability without blocking.
  void send_with_fd(WriteQueue::Chunk chunk) {
    const long r = T::send_with_fd(stream_, chunk.bytes, chunk.fd);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      stream_.async_wait(Stream::wait_write, [self = shared()](asio::error_code ec) {
        if (ec || self->closed()) return self->close();
        self->write(self->queue_.next());
      });
      return;
    }
    writing_ = false;
    if (r <= 0) return close();
    queue_.sent_with_fd(static_cast<std::size_t>(r));
    flush();
    resume_reading();
  }

  void close_transport() override { T::close(stream_); }

  Stream stream_;
};

// Makes a session of `stream` and starts it, if Admission lets one more in
// (the object server's connections only: the web page has its own cap).
template <class Stream>
void start_session(const NetContext& net, Stream stream) {
  if (!net.admission.admit()) return;  // `stream` closes here
  auto s = std::make_shared<Session<Stream>>(net, std::move(stream));
  net.sessions.add(s);
  s->start();
}

}  // namespace mpshare::server
