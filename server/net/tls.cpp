#include "tls.hpp"

#include <openssl/ssl.h>

#include <asio/ssl.hpp>

#include "session.hpp"
#include "socket.hpp"
#include "tcp.hpp"

namespace mpshare::server {

using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

template <>
struct Transport<TlsStream> {
  static constexpr const char* name = "tls";
  static constexpr bool passes_fds = false;

  template <class Handler>
  static void start(TlsStream& s, Handler&& ready) {
    SocketTransport::tune(s.next_layer());
    s.async_handshake(asio::ssl::stream_base::server, std::forward<Handler>(ready));
  }
  // A peer that closes without a TLS close_notify truncates the stream.
  static bool expected(const asio::error_code& ec) {
    return SocketTransport::expected(ec) || ec == asio::ssl::error::stream_truncated;
  }
  static void close(TlsStream& s) { SocketTransport::close(s.next_layer()); }
  static std::string peer(TlsStream& s) { return SocketTransport::peer(s.next_layer()); }
};

namespace {

// Loads one PEM file into the context; the error names the option and file.
template <class Load>
void load(const char* option, const std::string& file, Load&& f) {
  try {
    f(file);
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), std::string(option) + " " + file);
  }
}

std::shared_ptr<asio::ssl::context> make_context(const TlsOptions& o) {
  if (o.cert_file.empty() || o.key_file.empty())
    throw std::invalid_argument(
        "a tls:// listener needs a certificate and a key (--tls-cert, "
        "--tls-key)");
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
  ::SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  load("--tls-cert", o.cert_file,
       [&](const std::string& f) { ctx->use_certificate_chain_file(f); });
  load("--tls-key", o.key_file,
       [&](const std::string& f) { ctx->use_private_key_file(f, asio::ssl::context::pem); });
  if (!o.client_ca_file.empty()) {
    load("--tls-client-ca", o.client_ca_file,
         [&](const std::string& f) { ctx->load_verify_file(f); });
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace

std::unique_ptr<Listener> listen_tls(const std::string& host, std::uint16_t port,
                                     const NetContext& net) {
  auto ctx = make_context(net.options.tls);
  return std::make_unique<TcpListener>(
      net, host, port, "tls",
      [&net, ctx](asio::ip::tcp::socket s) { start_session(net, TlsStream(std::move(s), *ctx)); });
}

}  // namespace mpshare::server
