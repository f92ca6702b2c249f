#include "session_core.hpp"

#include <asio/post.hpp>

#include "../dispatch.hpp"
#include "../log.hpp"
#include "auth_throttle.hpp"
#include "sessions.hpp"

namespace mpshare::server {

using detail::FrameHeader;

SessionCore::SessionCore(const NetContext& net)
    : SessionBase(net.sessions.next_id()),
      net_(net),
      handshake_(net.options.key),
      timer_(net.io),
      ticket_(net.admission.joined(this)) {}

void SessionCore::arm_handshake_timer() {
  timer_.expires_after(net_.options.handshake_timeout);
  timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (ec || self->authenticated_) return;
    log(LogLevel::warn, self->tag() + ": handshake timed out");
    self->close();
  });
}

void SessionCore::greet() {
  const auto wait = net_.throttle.before_hello(throttle_key_, AuthThrottle::Clock::now());
  if (!wait) {
    // Held a while before closing, so that retrying at once gains nothing.
    log(LogLevel::warn, "connection refused: " + throttle_key_ + " keeps failing the handshake");
    refusing_ = true;
    timer_.expires_after(AuthThrottle::max_delay);
    timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (!ec) self->close();
    });
    return;
  }
  if (*wait == AuthThrottle::Clock::duration::zero()) return send_hello();
  // The wait replaces the handshake deadline, which starts again after.
  timer_.expires_after(*wait);
  timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (ec || self->closed_) return;
    self->send_hello();
    self->arm_handshake_timer();
  });
}

void SessionCore::send_hello() {
  handshake_.hello(queue_.buffer());
  flush();
}

void SessionCore::received(std::size_t n) {
  reader_.commit(n);
  stats_.bytes_in += n;
  net_.dispatcher.counters().bytes_in += n;
  if (authenticated_ || authenticate()) process();
  flush();
}

// True once authenticated; false while the answer is incomplete or after
// refusing it.
bool SessionCore::authenticate() {
  const std::size_t size = ServerHandshake::answer_size;
  std::string_view in = reader_.unread();
  if (in.size() < size) return false;
  std::string verdict;
  if (!handshake_.answer(in.substr(0, size), verdict)) {
    ++net_.dispatcher.counters().auth_failures;
    refuse(std::move(verdict));
    return false;
  }
  queue_.buffer() += verdict;
  reader_.consume(size);
  authenticated_ = true;
  net_.admission.authenticated(ticket_);
  stats_.authenticated = true;
  timer_.cancel();
  return true;
}

// Reads nothing more; sends the verdict after the peer's penalty, then
// closes.
void SessionCore::refuse(std::string verdict) {
  refusing_ = true;
  const auto delay = net_.throttle.failed(throttle_key_, AuthThrottle::Clock::now());
  log(LogLevel::warn, tag() + ": authentication failed");
  if (delay == AuthThrottle::Clock::duration::zero()) {
    queue_.buffer() += verdict;
    return stop();
  }
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this(), verdict = std::move(verdict)](asio::error_code ec) {
    if (ec || self->closed_) return;
    self->queue_.buffer() += verdict;
    self->stop();
  });
}

void SessionCore::process() {
  const std::shared_ptr<SessionBase> self = shared_from_this();
  const std::uint32_t max_frame = net_.options.max_frame;
  FrameHeader h;
  std::string_view payload;
  while (reading()) {
    switch (reader_.next(max_frame, h, payload)) {
      case FrameReader::Next::need_more:
        return;
      case FrameReader::Next::too_large: {
        const std::string why = "frame of " + std::to_string(h.length) +
                                " bytes exceeds the maximum " + std::to_string(max_frame);
        log(LogLevel::warn, tag() + ": " + why);
        append_error(queue_.buffer(), h, Errc::protocol_error, why);
        return stop();  // the framing is lost
      }
      case FrameReader::Next::frame:
        break;
    }
    if (h.is_reply()) {
      log(LogLevel::warn, tag() + ": reply frame from a client");
      append_error(queue_.buffer(), h, Errc::protocol_error, "clients send requests, not replies");
      continue;
    }
    net_.dispatcher.dispatch(self, h, payload);
  }
}

bool SessionCore::held_back() const {
  const std::size_t soft = net_.options.output_soft_limit;
  return soft != 0 && queue_.queued() >= soft;
}

void SessionCore::flush() {
  if (closed_) return;
  const std::size_t hard = net_.options.output_hard_limit;
  if (hard != 0 && queue_.queued() > hard && !draining_) {
    log(LogLevel::warn, tag() + ": " + std::to_string(queue_.queued()) +
                            " bytes of unread replies, above the limit of " + std::to_string(hard) +
                            ": disconnected");
    // Not from inside the handler that is replying: it may be walking
    // the very waiter lists a disconnect changes.
    draining_ = true;
    asio::post(net_.io, [self = shared_from_this()] { self->close(); });
    return;
  }
  if (writing_) return;
  if (queue_.empty()) {
    if (draining_) close();
    return;
  }
  writing_ = true;
  WriteQueue::Chunk chunk = queue_.next();
  stats_.bytes_out += chunk.bytes.size();
  net_.dispatcher.counters().bytes_out += chunk.bytes.size();
  write(std::move(chunk));
}

void SessionCore::written(const asio::error_code& ec) {
  writing_ = false;
  queue_.written();
  if (ec) return close();
  flush();
  resume_reading();
}

void SessionCore::resume_reading() {
  if (read_in_flight_ || !reading()) return;
  if (authenticated_) process();
  flush();
  if (reading()) read_more();
}

void SessionCore::stop() {
  draining_ = true;
  flush();
}

void SessionCore::close() {
  if (closed_) return;
  closed_ = true;
  net_.admission.left(authenticated_ ? nullptr : &ticket_);
  close_transport();
  timer_.cancel();
  net_.sessions.closed(id());
}

}  // namespace mpshare::server
