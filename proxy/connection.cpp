#include "connection.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include "protocol/handshake.hpp"

namespace mpshare::detail {

namespace {
constexpr std::size_t read_buffer_bytes = 64 * 1024;
}  // namespace

Connection::Connection(const std::string& address, const AuthKey& key,
                       const ConnectOptions& options)
    : address_(address), spin_(options.spin), max_frame_(options.max_frame) {
  using namespace std::chrono_literals;
  const auto give_up_at = std::chrono::steady_clock::now() + options.retry_for;
  std::chrono::steady_clock::duration pause = 1ms;
  for (;;) {
    const Deadline deadline = Deadline::after(options.connect_timeout);
    try {
      transport_ = connect_transport(address, options, deadline);
    } catch (const NotListening&) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= give_up_at) throw;
      std::this_thread::sleep_for(std::min(pause, give_up_at - now));
      pause = std::min<std::chrono::steady_clock::duration>(pause * 2, 100ms);
      continue;
    }
    try {
      authenticate(key, deadline);
    } catch (const Timeout&) {
      throw Timeout(address_ + ": handshake timed out: the peer accepted the connection but " +
                    "did not complete the mpshare handshake within " +
                    std::to_string(options.connect_timeout.count()) +
                    " ms (ConnectOptions::connect_timeout)");
    }
    return;
  }
}

Connection::~Connection() = default;

void Connection::authenticate(const AuthKey& key, Deadline deadline) {
  Nonce server_nonce;
  std::string hello(server_hello_size, '\0');
  receive_raw(hello.data(), hello.size(), deadline);
  try {
    server_nonce = read_server_hello(hello);
  } catch (const ProtocolError& e) {
    lost(e.what());
  }
  const Nonce client_nonce = random_nonce();
  out_ = client_answer(key.bytes(), server_nonce, client_nonce);
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

bool Connection::usable() const {
  return transport_ && transport_->usable();
}

void Connection::close() {
  transport_.reset();
}

void Connection::lost(const std::string& why) {
  close();
  throw ConnectionLost(address_ + ": " + why);
}

void Connection::wait(Transport::Wait w, Deadline deadline) {
  if (wait_ready(transport_->fd(), w, deadline)) return;
  close();
  throw Timeout(address_ + ": no reply before the call's deadline");
}

void Connection::send_all(Deadline deadline) {
  if (!transport_) lost("connection closed");
  std::size_t sent = 0;
  while (sent < out_.size()) {
    Transport::Io io = transport_->write_some(out_.data() + sent, out_.size() - sent);
    sent += io.bytes;
    if (io.eof) lost("server closed the connection");
    if (io.bytes == 0) wait(io.wait, deadline);
  }
  out_.clear();
}

bool Connection::fill() {
  if (in_.size() < read_buffer_bytes) in_.resize(read_buffer_bytes);
  if (end_ == in_.size()) {
    std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  Transport::Io io = transport_->read_some(in_.data() + end_, in_.size() - end_);
  if (io.eof) lost("server closed the connection");
  end_ += io.bytes;
  wait_ = io.wait;
  return io.bytes > 0;
}

void Connection::receive_raw(char* dst, std::size_t n, Deadline deadline) {
  while (end_ - begin_ < n)
    if (!fill()) wait(wait_, deadline);
  std::memcpy(dst, in_.data() + begin_, n);
  begin_ += n;
}

FrameHeader Connection::receive(Deadline deadline, std::string_view& payload) {
  if (!transport_) lost("connection closed");
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
    if (fill()) continue;
    if (spin_.count() > 0) {
      auto until = std::chrono::steady_clock::now() + spin_;
      bool got = false;
      while (!got && std::chrono::steady_clock::now() < until) got = fill();
      if (got) continue;
    }
    wait(wait_, deadline);
  }
}

int Connection::take_fd() {
  return transport_ ? transport_->take_fd() : -1;
}

}  // namespace mpshare::detail
