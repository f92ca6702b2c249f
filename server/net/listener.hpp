// Listeners: each accepts connections on one address and starts a session
// for each. Used only on the event-loop thread. Owned by the Server; not
// copyable.
#pragma once

#include <asio/error.hpp>
#include <functional>
#include <memory>
#include <string>

#include "../log.hpp"
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

// The accept loop of a listener over `Protocol`: every accepted socket goes
// to on_accept, until close() or the server stops.
template <class Protocol>
class Acceptor {
 public:
  using Socket = typename Protocol::socket;

  Acceptor(const NetContext& net, std::function<void(Socket)> on_accept)
      : net_(net), acceptor_(net.io), on_accept_(std::move(on_accept)) {}

  typename Protocol::acceptor& get() { return acceptor_; }
  void start() { do_accept(); }
  void close() {
    asio::error_code ec;
    acceptor_.close(ec);
  }

 private:
  void do_accept() {
    acceptor_.async_accept([this](asio::error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec)
        log(LogLevel::warn, "accept: " + ec.message());
      else if (!net_.sessions.stopping())
        on_accept_(std::move(socket));
      do_accept();
    });
  }

  const NetContext& net_;
  typename Protocol::acceptor acceptor_;
  std::function<void(Socket)> on_accept_;
};

}  // namespace mpshare::server
