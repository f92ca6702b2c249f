// The client core the proxy templates call through: one per Manager (and
// per server address a process talks to). Thread-safe: every thread uses
// its own connection, opened lazily and authenticated once; a call writes
// and reads on the calling thread. After fork() the child opens new
// connections and never touches its parent's.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mpshare/connect.hpp"
#include "mpshare/detail/protocol.hpp"

namespace mpshare::detail {

class Connection;

// When a call gives up waiting for its reply: never for waits that should
// last until the server answers (the connection's death still ends them).
struct Deadline {
  std::chrono::steady_clock::time_point at{};
  bool infinite = true;

  static Deadline after(std::chrono::nanoseconds d) {
    return {std::chrono::steady_clock::now() + d, false};
  }
  static Deadline never() { return {}; }
};

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  ClientCore(std::string address, AuthKey key, ConnectOptions options);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  const std::string& address() const { return address_; }
  const AuthKey& key() const { return key_; }
  const ConnectOptions& options() const { return options_; }
  bool is_local() const;  // unix socket
  // This process stopped the server (Manager::shutdown): later calls throw
  // ConnectionLost saying so instead of failing to reconnect. Thread-safe.
  void mark_stopped() { stopped_.store(true, std::memory_order_relaxed); }

  // One request, one reply, default deadline. Throws the typed error.
  template <class Op, class... A>
  typename Op::Result call(std::uint64_t object, const A&... args) {
    return call_until<Op>(object, Deadline::after(options_.call_timeout), args...);
  }

  // A blocking request: `wait` is how long the server may park it
  // (nullopt: until answered); the reply deadline adds call_timeout.
  template <class Op, class... A>
  typename Op::Result call_wait(std::uint64_t object, std::optional<std::chrono::nanoseconds> wait,
                                const A&... args) {
    return call_until<Op>(
        object, wait ? Deadline::after(*wait + options_.call_timeout) : Deadline::never(), args...);
  }

  template <class Op, class... A>
  typename Op::Result call_until(std::uint64_t object, Deadline deadline, const A&... args) {
    static_assert(std::is_same_v<std::tuple<std::decay_t<A>...>, typename Op::Args>,
                  "argument types must match the op table exactly");
    Connection& c = connection();
    std::string& frame = request_buffer(c);
    append_frame(frame, Op::code, 0, next_request(c), object, args...);
    std::string_view reply = exchange(c, deadline);
    return decode_reply<typename Op::Result>(reply);
  }

  // Decodes a reply payload with this core as the decode context, so that
  // proxies inside it attach to this server.
  template <class R>
  R decode_reply(std::string_view payload);

  // This thread's connection to the server (opened on first use).
  Connection& connection();
  // Drops this thread's connection (the server releases what it held).
  void disconnect_this_thread();

  // The core a proxy being decoded on this thread attaches to.
  static ClientCore* decode_context();
  // A core for another address, sharing this core's key and options.
  std::shared_ptr<ClientCore> for_address(const std::string& address);

  // Raw access for batching and the shared-memory mapper: the frame buffer
  // to append requests to, a fresh request id, and a blocking exchange of one
  // request for its reply payload (valid until the next call on this thread).
  static std::string& request_buffer(Connection& c);
  static std::uint64_t next_request(Connection& c);
  std::string_view exchange(Connection& c, Deadline deadline);

  // One reply of a pipelined exchange: its status (0 = ok, else Errc) and
  // where its payload sits in the caller's payload buffer.
  struct Reply {
    std::uint16_t status = 0;
    std::size_t offset = 0, length = 0;
  };
  // Pipelined exchange on this thread's connection: `frames` holds any
  // number of request frames (their request ids are replaced by fresh ones
  // of the connection); sends them in one write, then reads all their
  // replies, in whatever order the server answers. Reply i (for frame i)
  // goes to replies[i], its payload appended to `payloads`. Per-request
  // errors are statuses, not exceptions; a lost connection, a timeout or a
  // stray reply throws (the connection is closed).
  void exchange_batch(std::string frames, Deadline deadline, std::string& payloads,
                      std::vector<Reply>& replies);

 private:
  std::uint64_t id_;
  std::string address_;
  AuthKey key_;
  ConnectOptions options_;
  std::atomic<bool> stopped_{false};
};

class DecodeContextScope {
 public:
  explicit DecodeContextScope(ClientCore* core);
  ~DecodeContextScope();
  DecodeContextScope(const DecodeContextScope&) = delete;
  DecodeContextScope& operator=(const DecodeContextScope&) = delete;

 private:
  ClientCore* previous_;
};

template <class R>
R ClientCore::decode_reply(std::string_view payload) {
  DecodeContextScope scope(this);
  return decode<R>(payload);
}

}  // namespace mpshare::detail
