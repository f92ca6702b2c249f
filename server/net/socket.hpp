// What the transports over a plain socket share (Unix, TCP, and TCP under
// TLS). Used only on the event-loop thread.
#pragma once

#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/socket_base.hpp>
#include <string>
#include <type_traits>

namespace mpshare::server {

struct SocketTransport {
  // Peers close or reset connections; that is not worth a log line.
  static bool expected(const asio::error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::operation_aborted ||
           ec == asio::error::connection_reset;
  }
  // Who the peer is, for AuthThrottle: its address, without the port.
  template <class Socket>
  static std::string peer(Socket& s) {
    asio::error_code ec;
    const auto ep = s.remote_endpoint(ec);
    return ec ? std::string("an unknown peer") : ep.address().to_string();
  }
  // Large kernel buffers, and no Nagle delay for TCP.
  template <class Socket>
  static void tune(Socket& s) {
    constexpr int buffer_bytes = 4 * 1024 * 1024;
    asio::error_code ec;
    if constexpr (std::is_same_v<typename Socket::protocol_type, asio::ip::tcp>)
      s.set_option(asio::ip::tcp::no_delay(true), ec);
    s.set_option(asio::socket_base::send_buffer_size(buffer_bytes), ec);
    s.set_option(asio::socket_base::receive_buffer_size(buffer_bytes), ec);
  }
  // Nothing to negotiate: ready at once.
  template <class Socket, class Handler>
  static void start(Socket& s, Handler&& ready) {
    tune(s);
    ready(asio::error_code());
  }
  template <class Socket>
  static void close(Socket& s) {
    asio::error_code ec;
    s.shutdown(Socket::shutdown_both, ec);
    s.close(ec);
  }
};

}  // namespace mpshare::server
