// How a client reaches a server and proves it may: the shared key, and the
// options of a connection (deadlines, low-latency spin, shared memory,
// TLS). Addresses are "unix:/path", "tcp://host:port" or "tls://host:port"
// (IPv6 hosts in brackets).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "mpshare/detail/protocol.hpp"

namespace mpshare {

// The shared secret both ends prove they know. Copyable value. Keys shorter
// than 16 bytes are refused with ValueError when used (connect, spawn,
// from_file) and by the server.
class AuthKey {
 public:
  AuthKey() = default;
  static AuthKey random();  // 32 random bytes
  // Every byte of the file at `path`, as is (binary: nothing is trimmed or
  // decoded). Throws AuthError naming the path: the file cannot be read
  // (with the system's reason), is empty, or is one line of printable text
  // ending in a newline — what `echo secret > key` writes, where the
  // newline would silently become part of the key. Write text keys without
  // it (`printf %s 'a shared secret of 16 bytes or more' > key`) or use
  // random bytes (`head -c 32 /dev/urandom > key`).
  static AuthKey from_file(const std::string& path);
  static AuthKey from_string(std::string bytes) {
    AuthKey k;
    k.bytes_ = std::move(bytes);
    return k;
  }
  const std::string& bytes() const { return bytes_; }
  bool operator==(const AuthKey&) const = default;

  // The key as lowercase hex digits, to hand to a worker (an environment
  // variable, a command line); from_hex reads it back (either case).
  // from_hex throws ValueError for an empty string, an odd length or a
  // character that is not a hex digit.
  std::string to_hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes_.size() * 2);
    for (unsigned char c : bytes_) {
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xF]);
    }
    return out;
  }
  static AuthKey from_hex(std::string_view hex) {
    if (hex.empty() || hex.size() % 2 != 0)
      throw ValueError("a hex auth key needs a positive, even number of digits (got " +
                       std::to_string(hex.size()) + ")");
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      throw ValueError("a hex auth key holds only hex digits");
    };
    std::string bytes(hex.size() / 2, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return from_string(std::move(bytes));
  }

 private:
  std::string bytes_;
};

// TLS of tls:// addresses (OpenSSL). The key handshake still runs inside
// TLS. Copyable value.
struct TlsOptions {
  // CA certificates (PEM) that sign the server's; empty: the system's.
  std::string ca_file;
  // A client certificate chain and its private key (PEM), for servers that
  // require one (mpshare-server --tls-client-ca).
  std::string cert_file;
  std::string key_file;
  // The server's certificate must name the address's host (or server_name).
  bool verify_name = true;
  // The name to verify and to send as SNI instead of the address's host.
  std::string server_name;
};

// How a client talks to a server. Copyable value.
struct ConnectOptions {
  // Deadline for one non-blocking call (blocking calls: their own wait plus this).
  std::chrono::milliseconds call_timeout{30000};
  // Deadline for connecting and authenticating (TLS handshake included).
  std::chrono::milliseconds connect_timeout{5000};
  // Low-latency mode: spin on a reply this long before blocking.
  std::chrono::microseconds spin{0};
  // Map Value/Array shared memory when the server is local (else use RPC).
  bool map_shared_memory = true;
  // Largest reply accepted.
  std::uint32_t max_frame = detail::default_max_frame;
  // Wait for a server that is not up yet: while nothing listens at the
  // address (no socket file, connection refused), connecting is retried,
  // with pauses growing from 1 ms to 100 ms, until this long has passed
  // since the first try; then the last error is thrown. Applies to every
  // connection a thread opens. 0: one try.
  std::chrono::milliseconds retry_for{0};
  TlsOptions tls;
};

}  // namespace mpshare
