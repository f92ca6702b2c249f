// Listeners: each accepts connections on one address and starts a session
// for each. Used only on the event-loop thread. Owned by the Server; not
// copyable.
#pragma once

#include <asio/error.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "../log.hpp"
#include "admission.hpp"
#include "context.hpp"
#include "sessions.hpp"

namespace mpshare::server {

class Listener {
 public:
  Listener() = default;
  virtual ~Listener() = default;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The bound address, with the real port: "unix:/path",
  // "tcp://127.0.0.1:41234", "tls://[::1]:41235".
  const std::string& address() const { return address_; }
  // Stops accepting; sessions go on.
  virtual void close() = 0;

 protected:
  std::string address_;
};

// Binds `address` ("unix:/path", "tcp://host:port", "tls://host:port") and
// starts accepting. Throws std::invalid_argument for a bad address or
// missing TLS settings, std::system_error when binding fails.
std::unique_ptr<Listener> listen(const std::string& address, const NetContext& net);

// What an accept loop does when accept fails. Out of descriptors (EMFILE,
// ENFILE) or memory, it makes room by dropping the oldest connection still
// authenticating; when there is none it closes one waiting connection
// through a reserve descriptor, so the peer hears no rather than hangs,
// and pauses accepting (10 ms, doubling up to 1 s) instead of spinning. One
// log line when a pause starts, one when accepting works again.
class AcceptGuard {
 public:
  explicit AcceptGuard(const NetContext& net);
  ~AcceptGuard();
  AcceptGuard(const AcceptGuard&) = delete;
  AcceptGuard& operator=(const AcceptGuard&) = delete;

  // accept on listening socket `fd` failed with `ec`: calls `retry` at
  // once or after a pause, or, when no connection is waiting (accept
  // fails for want of a descriptor even then), `retry_when_readable`.
  void failed(const asio::error_code& ec, int fd, std::function<void()> retry,
              const std::function<void()>& retry_when_readable);
  // accept succeeded.
  void succeeded();
  void cancel();

 private:
  const NetContext& net_;
  int reserve_ = -1;
  asio::steady_timer pause_;
  std::chrono::milliseconds backoff_{0};
  std::uint64_t failures_ = 0;  // of the current shortage
  std::uint64_t turned_away_ = 0;
};

// The accept loop of a listener over `Protocol`: every accepted socket goes
// to on_accept, until close() or the server stops.
template <class Protocol>
class Acceptor {
 public:
  using Socket = typename Protocol::socket;

  Acceptor(const NetContext& net, std::function<void(Socket)> on_accept)
      : net_(net), acceptor_(net.io), guard_(net), on_accept_(std::move(on_accept)) {}

  typename Protocol::acceptor& get() { return acceptor_; }
  void start() {
    acceptor_.native_non_blocking(true);  // AcceptGuard accepts on it directly
    do_accept();
  }
  void close() {
    asio::error_code ec;
    acceptor_.close(ec);
    guard_.cancel();
  }

 private:
  void do_accept() {
    acceptor_.async_accept([this](asio::error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec)
        return guard_.failed(
            ec, acceptor_.native_handle(), [this] { do_accept(); }, [this] { wait_then_accept(); });
      guard_.succeeded();
      if (!net_.sessions.stopping()) on_accept_(std::move(socket));
      do_accept();
    });
  }

  void wait_then_accept() {
    acceptor_.async_wait(Protocol::acceptor::wait_read, [this](asio::error_code ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      do_accept();
    });
  }

  const NetContext& net_;
  typename Protocol::acceptor acceptor_;
  AcceptGuard guard_;
  std::function<void(Socket)> on_accept_;
};

}  // namespace mpshare::server
