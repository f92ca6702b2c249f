// Listen and connect addresses, private to the server and the client library.
#pragma once

#include <cstdint>
#include <string>

namespace mpshare::detail {

// A parsed address: "unix:/path", "tcp://host:port" or "tls://host:port"
// (IPv6 hosts in brackets). Copyable value.
struct Address {
  enum class Type { unix_socket, tcp, tls } type = Type::unix_socket;
  std::string path;  // unix
  std::string host;  // tcp, tls
  std::uint16_t port = 0;
};
// Throws std::invalid_argument naming the address.
Address parse_address(const std::string& address);

}  // namespace mpshare::detail
