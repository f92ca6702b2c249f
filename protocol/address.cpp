#include "protocol/address.hpp"

#include <stdexcept>

namespace mpshare::detail {

namespace {

// "host:port" after a scheme; IPv6 hosts in brackets.
void parse_host_port(const std::string& address, std::string rest, Address& a) {
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size())
    throw std::invalid_argument("missing port in '" + address + "'");
  a.host = rest.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']')
    a.host = a.host.substr(1, a.host.size() - 2);
  if (a.host.empty()) throw std::invalid_argument("missing host in '" + address + "'");
  std::string port = rest.substr(colon + 1);
  unsigned long p = 0;
  std::size_t used = 0;
  try {
    p = std::stoul(port, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != port.size() || p > 65535)
    throw std::invalid_argument("bad port in '" + address + "'");
  a.port = static_cast<std::uint16_t>(p);
}

}  // namespace

Address parse_address(const std::string& address) {
  Address a;
  if (address.rfind("unix:", 0) == 0) {
    a.type = Address::Type::unix_socket;
    a.path = address.substr(5);
    if (a.path.empty()) throw std::invalid_argument("empty unix socket path in '" + address + "'");
    return a;
  }
  if (address.rfind("tcp://", 0) == 0) {
    a.type = Address::Type::tcp;
    parse_host_port(address, address.substr(6), a);
    return a;
  }
  if (address.rfind("tls://", 0) == 0) {
    a.type = Address::Type::tls;
    parse_host_port(address, address.substr(6), a);
    return a;
  }
  throw std::invalid_argument(
      "address must be unix:/path, tcp://host:port or tls://host:port, not '" + address + "'");
}

}  // namespace mpshare::detail
