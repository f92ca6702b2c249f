// Pipe: typed messages between two processes, as Python's
// multiprocessing.Pipe and its Connection objects.
//
//   auto [a, b] = mpshare::pipe<std::string>();              // duplex
//   auto [rx, tx] = mpshare::pipe<Msg>(mpshare::Duplex::no);  // rx receives, tx sends
//   a.send("hi");
//   std::string s = b.recv();       // EOFError once a is closed and drained
//   std::optional<std::string> m = b.recv(1s);  // nullopt on timeout
//   auto ready = mpshare::wait({&a, &rx}, 1s);
//
// Messages go through the codec (codec.hpp): any type Cereal serializes.
// Each message is one frame: an 8-byte little-endian length, then the
// encoded bytes. Both ends live on one Unix socketpair, so writing to an end
// whose peer is closed is ConnectionLost, never SIGPIPE.
//
// End of file: recv() throws EOFError once every copy of the peer end is
// closed and every message it sent has been received. A peer that ends in
// the middle of a message (killed) gives ConnectionLost. An end passed by
// value as an argument of a Process is closed in the parent once the child
// has started, and the peer end this process holds is closed in the child
// (process.hpp), so end of file arrives either way. Every process forked
// while an end is open still inherits a copy of it, as in Python: an end
// captured by reference in a Process's lambda stays open in both, and a
// reader waits for end of file until every copy is closed.
//
// Size limit: a message longer than max_message() bytes is a ValueError,
// raised by send() before anything is written or by recv() at once, which
// then drops that message; the connection stays usable either way.
//
// Simplex pipes: pipe<T>(Duplex::no) gives ends whose wrong direction is a
// StateError at run time; pipe<T, Duplex::no>() gives ends whose wrong
// direction does not compile.
//
// Thread safety: an end is move-only (it owns a descriptor). One thread may
// send while another receives on the same end; two concurrent senders, two
// concurrent receivers, or close() concurrent with any other call, need the
// caller's own lock, as in Python.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mpshare/codec.hpp"
#include "mpshare/errors.hpp"
#include "mpshare/process.hpp"

namespace mpshare {

enum class Duplex : bool { no = false, yes = true };
// What an end may do, fixed in its type.
enum class Direction : std::uint8_t { both, receive, send };

struct PipeOptions {
  std::size_t max_message = 128u * 1024 * 1024;  // bytes of one encoded message
};

namespace detail {
struct PipeEnd;  // pipe.cpp
struct PipeEndDeleter {
  void operator()(PipeEnd* end) const noexcept;
};
using PipeEndPtr = std::unique_ptr<PipeEnd, PipeEndDeleter>;
std::pair<PipeEndPtr, PipeEndPtr> make_pipe_ends(bool duplex, std::size_t max);
std::vector<ConnectionBase*> wait_ms(std::initializer_list<ConnectionBase*> ends,
                                     std::chrono::milliseconds timeout);
}  // namespace detail

// What wait() sees: an end of any message type.
class ConnectionBase {
 public:
  ConnectionBase(ConnectionBase&&) noexcept;
  ConnectionBase& operator=(ConnectionBase&&) noexcept;
  ConnectionBase(const ConnectionBase&) = delete;
  ConnectionBase& operator=(const ConnectionBase&) = delete;
  ~ConnectionBase();

  // Closes this end (this process's copy). Closing twice does nothing.
  void close() noexcept;
  bool closed() const noexcept;
  bool readable() const noexcept;
  bool writable() const noexcept;
  // The descriptor, or -1 once closed. Owned by the end.
  int fileno() const noexcept;
  std::size_t max_message() const noexcept;
  void set_max_message(std::size_t bytes);

  // True when recv() would not wait: a message, or end of file, is ready.
  bool poll() { return poll_for(std::chrono::milliseconds(0)); }
  template <class Rep, class Period>
  bool poll(std::chrono::duration<Rep, Period> timeout) {
    return poll_for(std::chrono::ceil<std::chrono::milliseconds>(timeout));
  }

 protected:
  explicit ConnectionBase(detail::PipeEndPtr end);
  // The frame being built: 8 bytes of room for the length, then appended
  // message bytes. Sender-only state.
  std::string& start_frame();
  void send_frame();
  // The next message, valid until the next receive; nullopt on timeout
  // (negative: no limit).
  std::optional<std::string_view> receive(std::chrono::milliseconds timeout);
  bool poll_for(std::chrono::milliseconds timeout);
  void check_send() const;
  void check_receive() const;

 private:
  friend void detail::close_handed_off(ConnectionBase&) noexcept;
  friend void detail::mark_handed_off(ConnectionBase&) noexcept;
  friend void detail::close_peer_in_child(ConnectionBase&) noexcept;
  friend std::vector<ConnectionBase*> detail::wait_ms(std::initializer_list<ConnectionBase*>,
                                                      std::chrono::milliseconds);

  detail::PipeEndPtr end_;
};

// One end of a pipe carrying messages of type T.
template <class T, Direction D = Direction::both>
class Connection : public ConnectionBase {
 public:
  explicit Connection(detail::PipeEndPtr end) : ConnectionBase(std::move(end)) {}

  // Blocks while the peer's socket buffer is full. ConnectionLost when the
  // peer is closed; ValueError when the message is over max_message().
  void send(const T& value) requires(D != Direction::receive) {
    check_send();
    encode_into(start_frame(), value);
    send_frame();
  }
  void send_bytes(std::string_view bytes) requires(D != Direction::receive) {
    check_send();
    start_frame().append(bytes);
    send_frame();
  }

  // EOFError once the peer is closed and drained; ProtocolError when the
  // bytes do not decode as T.
  T recv() requires(D != Direction::send) {
    return decode<T>(*receive(std::chrono::milliseconds(-1)));
  }
  template <class Rep, class Period>
  std::optional<T> recv(std::chrono::duration<Rep, Period> timeout) requires(D != Direction::send) {
    auto m = receive(std::chrono::ceil<std::chrono::milliseconds>(timeout));
    if (!m) return std::nullopt;
    return decode<T>(*m);
  }
  std::string recv_bytes() requires(D != Direction::send) {
    return std::string(*receive(std::chrono::milliseconds(-1)));
  }
  template <class Rep, class Period>
  std::optional<std::string> recv_bytes(std::chrono::duration<Rep, Period> timeout) requires(
      D != Direction::send) {
    auto m = receive(std::chrono::ceil<std::chrono::milliseconds>(timeout));
    if (!m) return std::nullopt;
    return std::string(*m);
  }
};

// Duplex::yes: both ends send and receive. Duplex::no: first the receiving
// end, then the sending end (as Python); the wrong direction is a
// StateError.
template <class T>
std::pair<Connection<T>, Connection<T>> pipe(Duplex duplex = Duplex::yes,
                                             PipeOptions options = {}) {
  auto [a, b] = detail::make_pipe_ends(duplex == Duplex::yes, options.max_message);
  return {Connection<T>(std::move(a)), Connection<T>(std::move(b))};
}

// As pipe<T>(Duplex::no), with the direction in the ends' types.
template <class T, Duplex Dx>
requires(Dx == Duplex::no)
    std::pair<Connection<T, Direction::receive>, Connection<T, Direction::send>> pipe(
        PipeOptions options = {}) {
  auto [a, b] = detail::make_pipe_ends(false, options.max_message);
  return {Connection<T, Direction::receive>(std::move(a)),
          Connection<T, Direction::send>(std::move(b))};
}

// The ends (in the order given) that have a message or end of file ready,
// waiting up to `timeout` for one; empty on timeout. As Python's
// multiprocessing.connection.wait. Closed ends are a StateError.
template <class R, class P>
std::vector<ConnectionBase*> wait(std::initializer_list<ConnectionBase*> ends,
                                  std::chrono::duration<R, P> timeout) {
  return detail::wait_ms(ends, std::chrono::ceil<std::chrono::milliseconds>(timeout));
}
inline std::vector<ConnectionBase*> wait(std::initializer_list<ConnectionBase*> ends) {
  return detail::wait_ms(ends, std::chrono::milliseconds(-1));
}

}  // namespace mpshare
