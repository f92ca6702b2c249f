// TCP listeners, plain (tcp://) or under TLS (tls://, tls.cpp).
#pragma once

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "listener.hpp"

namespace mpshare::server {

// Listens on host:port (port 0: any free one); address() is
// "<scheme>://host:port" with the real port. Every accepted socket goes to
// on_accept.
class TcpListener final : public Listener {
 public:
  TcpListener(const NetContext& net, const std::string& host, std::uint16_t port,
              const char* scheme, std::function<void(asio::ip::tcp::socket)> on_accept);
  ~TcpListener() override { close(); }
  void close() override { acceptor_.close(); }

 private:
  Acceptor<asio::ip::tcp> acceptor_;
};

std::unique_ptr<Listener> listen_tcp(const std::string& host, std::uint16_t port,
                                     const NetContext& net);

}  // namespace mpshare::server
