// What the server counts for its introspection (Info, Clients): plain
// integers bumped on the event-loop thread, read there too. Used only on
// the event-loop thread.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "mpshare/detail/protocol.hpp"

namespace mpshare::server {

// Every op of ops.def, in its order: a dense index for counting.
inline constexpr std::uint16_t op_codes[] = {
#define MPSHARE_OP(Name, code, ...) code,
#include "mpshare/detail/ops.def"
#undef MPSHARE_OP
};
inline constexpr std::size_t op_count = std::size(op_codes);
using OpCounts = std::array<std::uint64_t, op_count>;

// The whole server's counters, since it started.
struct ServerCounters {
  OpCounts ops{};
  OpCounts errors{};
  std::uint64_t requests = 0;  // unknown ops included
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t auth_failures = 0;
};

// Who is at the other end of a session.
struct PeerInfo {
  const char* transport = "";  // "unix", "tcp", "tls"
  std::string address;         // TCP/TLS: "host:port"
  std::int64_t pid = 0;        // Unix: SO_PEERCRED, else 0
  std::int64_t uid = -1;       // Unix: SO_PEERCRED, else -1
};

// One session's counters.
struct SessionStats {
  std::chrono::system_clock::time_point connected_at = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point connected = std::chrono::steady_clock::now();
  bool authenticated = false;
  OpCounts ops{};
  std::uint64_t requests = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

// "pid 12 uid 1000" for Unix peers, the address for TCP and TLS ones.
std::string describe(const PeerInfo& peer);

}  // namespace mpshare::server
