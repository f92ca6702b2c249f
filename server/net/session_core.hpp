// What every session does whatever its transport: the handshake, framing,
// handing requests to the dispatcher, and the write queue. Used only on
// the event-loop thread.
#pragma once

#include <asio/steady_timer.hpp>
#include <memory>
#include <span>
#include <string>

#include "../call.hpp"
#include "admission.hpp"
#include "context.hpp"
#include "frame_reader.hpp"
#include "handshake.hpp"
#include "write_queue.hpp"

namespace mpshare::server {

// Lifetime: shared_ptr held by the SessionManager, in-flight operations and
// parked calls. Session<Stream> (session.hpp) adds the I/O.
class SessionCore : public SessionBase, public std::enable_shared_from_this<SessionCore> {
 public:
  explicit SessionCore(const NetContext& net);

  std::string& out() final { return queue_.buffer(); }
  // Starts writing what is queued, unless a write is in flight.
  void flush() final;
  // Finishes writing what is queued, reads nothing more, then closes.
  void stop() final;

 protected:
  // From accept: the peer must authenticate within the time limit.
  void arm_handshake_timer();
  // The transport is ready (TLS handshake done): send the hello, at once
  // or, for a peer that keeps failing, at its turn (AuthThrottle).
  void greet();
  // Where to read next; then received() with what was read.
  std::span<char> read_buffer() { return reader_.prepare(); }
  void received(std::size_t n);
  // Neither closing nor held back by unread replies.
  bool reading() const { return !closed_ && !draining_ && !refusing_ && !held_back(); }
  // The write of a chunk without descriptor ended.
  void written(const asio::error_code& ec);
  // After a write: once the replies drained below the soft limit, handles
  // the requests already read and reads again.
  void resume_reading();
  // Closes at once; what is queued is dropped.
  void close();
  // Who the peer is for AuthThrottle: "uid N" or an address.
  void set_throttle_key(std::string key) { throttle_key_ = std::move(key); }

  WriteQueue queue_;
  bool writing_ = false;
  bool read_in_flight_ = false;

 private:
  // Starts writing `chunk`; ends with written(), or for a chunk with a
  // descriptor with queue_.sent_with_fd() then flush().
  virtual void write(WriteQueue::Chunk chunk) = 0;
  virtual void close_transport() = 0;
  // Starts the next read (none is in flight).
  virtual void read_more() = 0;
  bool held_back() const;

  friend class Admission;  // closes the oldest unauthenticated session
  void send_hello();
  bool authenticate();
  void refuse(std::string verdict);
  void process();

  const NetContext& net_;
  FrameReader reader_;
  ServerHandshake handshake_;
  asio::steady_timer timer_;
  Admission::Ticket ticket_;  // in Admission's list while unauthenticated
  std::string throttle_key_;
  bool authenticated_ = false;
  bool refusing_ = false;  // a failed handshake's verdict is on its way
  bool draining_ = false;
};

}  // namespace mpshare::server
