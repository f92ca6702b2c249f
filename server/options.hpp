// How a Server is configured (mpshare-server's command line, or spawn).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mpshare/detail/protocol.hpp"

namespace mpshare::server {

// Certificates of tls:// listeners, PEM files.
struct TlsOptions {
  std::string cert_file;       // the server's certificate chain
  std::string key_file;        // its private key
  std::string client_ca_file;  // when set, clients must present a certificate it signed
};

inline constexpr std::uint64_t default_max_shared_bytes = std::uint64_t(1) << 30;

struct ServerOptions {
  // "unix:/path", "tcp://host:port" or "tls://host:port" (port 0: any free port).
  std::vector<std::string> listen;
  std::string key;  // the shared authentication key (raw bytes)
  std::uint32_t max_frame = detail::default_max_frame;
  // Replies a client has not taken yet (like Redis's
  // client-output-buffer-limit): above the soft limit its session reads no
  // further requests until they drain below it; above the hard limit (only
  // parked calls completing can get there) it is disconnected. 0: none.
  std::size_t output_soft_limit = std::size_t(16) << 20;
  std::size_t output_hard_limit = std::size_t(512) << 20;
  // Largest Value/Array contents a client may create.
  std::uint64_t max_shared_bytes = default_max_shared_bytes;
  // Connections at once, authenticated or not (0: no limit). At the limit a
  // new connection is closed at once, unless one still authenticating can
  // be dropped for it.
  std::size_t max_clients = 10000;
  // Connections still authenticating (0: no limit). At the limit the
  // oldest of them is dropped for a new one, so idle connections cannot
  // lock legitimate clients out.
  std::size_t max_unauthenticated = 1024;
  // A connection that has not authenticated by then (TLS handshake
  // included) is dropped.
  std::chrono::milliseconds handshake_timeout{5000};
  TlsOptions tls;
  // Low-latency mode: after activity, poll without sleeping this long.
  std::chrono::microseconds spin{0};
  // Where the read-only web page, /api and /metrics listen: "PORT" (on
  // 127.0.0.1), "HOST:PORT" or "[V6]:PORT"; empty: nowhere.
  std::string http;
  int lifeline_fd = -1;        // stop when this descriptor reaches EOF (-1: none)
  // Who may stop the server with the Shutdown op: the process `owner_pid`
  // (its spawner, checked by SO_PEERCRED on Unix sockets; 0: none), or
  // any client when allow_shutdown.
  std::int64_t owner_pid = 0;
  bool allow_shutdown = false;
  bool handle_signals = true;  // stop on SIGINT / SIGTERM
};

}  // namespace mpshare::server
