// tls:// addresses: TCP under OpenSSL. The server's certificate must chain
// to the configured CA and, unless told otherwise, name the host.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <memory>

#include "protocol/address.hpp"
#include "transport_socket.hpp"

namespace mpshare::detail {

namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

// The oldest error OpenSSL queued on this thread (then cleared), as text.
std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "connection closed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// True when the queued error is the peer refusing this client's certificate.
bool peer_refused_certificate() {
  unsigned long e = ERR_peek_error();
  if (ERR_GET_LIB(e) != ERR_LIB_SSL) return false;
  switch (ERR_GET_REASON(e)) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
      return true;
  }
  return false;
}

void load(bool ok, const char* option, const std::string& file) {
  if (!ok)
    throw ValueError(std::string("ConnectOptions::tls.") + option + " '" + file +
                     "': " + ssl_error_text());
}

std::unique_ptr<SSL_CTX, SslCtxFree> make_context(const TlsOptions& o) {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw ConnectionLost("TLS: " + ssl_error_text());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (o.ca_file.empty())
    load(SSL_CTX_set_default_verify_paths(ctx.get()) == 1, "ca_file", "(system default)");
  else
    load(SSL_CTX_load_verify_locations(ctx.get(), o.ca_file.c_str(), nullptr) == 1, "ca_file",
         o.ca_file);
  if (o.cert_file.empty() != o.key_file.empty())
    throw ValueError("ConnectOptions::tls: a client certificate needs its key, and the reverse");
  if (!o.cert_file.empty()) {
    load(SSL_CTX_use_certificate_chain_file(ctx.get(), o.cert_file.c_str()) == 1, "cert_file",
         o.cert_file);
    load(SSL_CTX_use_PrivateKey_file(ctx.get(), o.key_file.c_str(), SSL_FILETYPE_PEM) == 1,
         "key_file", o.key_file);
  }
  return ctx;
}

bool is_ip_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

class TlsTransport final : public SocketTransport {
 public:
  TlsTransport(int fd, const std::string& address, const TlsOptions& o, const std::string& name)
      : SocketTransport(fd, address), ctx_(make_context(o)), ssl_(SSL_new(ctx_.get())) {
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd) != 1) lost("TLS: " + ssl_error_text());
    if (!is_ip_address(name)) SSL_set_tlsext_host_name(ssl_.get(), name.c_str());
    if (o.verify_name) {
      int ok = is_ip_address(name)
                   ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), name.c_str())
                   : SSL_set1_host(ssl_.get(), name.c_str());
      if (ok != 1) lost("TLS: cannot verify the name '" + name + "'");
    }
  }

  // Runs the TLS handshake before `deadline`.
  void handshake(Deadline deadline) {
    for (;;) {
      ERR_clear_error();
      int r = SSL_connect(ssl_.get());
      if (r == 1) return;
      Io io = failed(r, "TLS handshake");
      if (io.eof) lost("TLS handshake: the server closed the connection (is it a TLS port?)");
      if (!wait_ready(fd(), io.wait, deadline))
        throw Timeout(address() + ": TLS handshake not done before the connect deadline");
    }
  }

  Io read_some(char* dst, std::size_t n) override {
    ERR_clear_error();
    int r = SSL_read(ssl_.get(), dst, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
    if (r > 0) return {static_cast<std::size_t>(r)};
    return failed(r, "TLS read");
  }

  Io write_some(const char* src, std::size_t n) override {
    ERR_clear_error();
    int r = SSL_write(ssl_.get(), src, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
    if (r > 0) return {static_cast<std::size_t>(r)};
    return failed(r, "TLS write");
  }

 private:
  // What a failed SSL call with result `r` means: a wait, the end, or a throw.
  Io failed(int r, const char* what) {
    switch (SSL_get_error(ssl_.get(), r)) {
      case SSL_ERROR_WANT_READ:
        return {0, Wait::readable};
      case SSL_ERROR_WANT_WRITE:
        return {0, Wait::writable};
      case SSL_ERROR_ZERO_RETURN:
        return {0, Wait::none, true};
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 && errno == 0) return {0, Wait::none, true};
        break;
      default:
        break;
    }
    const long verify = SSL_get_verify_result(ssl_.get());
    if (verify != X509_V_OK)
      throw AuthError(address() + ": the server's certificate is not accepted: " +
                      X509_verify_cert_error_string(verify));
    if (peer_refused_certificate())
      throw AuthError(address() + ": the server refused this client's certificate (" +
                      ssl_error_text() + ")");
    lost(std::string(what) + " failed: " + ssl_error_text());
  }

  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

}  // namespace

std::unique_ptr<Transport> connect_tls(const Address& a, const std::string& address,
                                       const TlsOptions& tls, Deadline deadline) {
  const std::string name = tls.server_name.empty() ? a.host : tls.server_name;
  auto t =
      std::make_unique<TlsTransport>(connect_tcp_socket(a, address, deadline), address, tls, name);
  t->handshake(deadline);
  return t;
}

}  // namespace mpshare::detail
