#include "listener.hpp"

#include <stdexcept>

#include "protocol/address.hpp"
#include "tcp.hpp"
#include "tls.hpp"
#include "unix.hpp"

namespace mpshare::server {

std::unique_ptr<Listener> listen(const std::string& address, const NetContext& net) {
  const detail::Address a = detail::parse_address(address);
  switch (a.type) {
    case detail::Address::Type::unix_socket:
      return listen_unix(a.path, net);
    case detail::Address::Type::tcp:
      return listen_tcp(a.host, a.port, net);
    case detail::Address::Type::tls:
      return listen_tls(a.host, a.port, net);
  }
  throw std::invalid_argument("unknown address type: " + address);
}

}  // namespace mpshare::server
