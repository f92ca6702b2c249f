// tcp:// addresses: a plain TCP socket with no delay.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>

#include "protocol/address.hpp"
#include "transport_socket.hpp"

namespace mpshare::detail {

int connect_tcp_socket(const Address& a, const std::string& address, Deadline deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &res);
  if (rc != 0) throw ConnectionLost("cannot resolve '" + a.host + "': " + ::gai_strerror(rc));
  int fd = -1;
  for (addrinfo* p = res; p && fd < 0; p = p->ai_next)
    fd = connect_socket(p->ai_family, p->ai_addr, p->ai_addrlen, deadline);
  const int err = errno;
  ::freeaddrinfo(res);
  if (fd < 0) throw_connect_error(address, err);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::unique_ptr<Transport> connect_tcp(const Address& a, const std::string& address,
                                       Deadline deadline) {
  return std::make_unique<SocketTransport>(connect_tcp_socket(a, address, deadline), address);
}

}  // namespace mpshare::detail
