#include "transport.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "protocol/address.hpp"
#include "transport_socket.hpp"

namespace mpshare::detail {

namespace {

int remaining_ms(Deadline d) {
  if (d.infinite) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      d.at - std::chrono::steady_clock::now() + std::chrono::microseconds(999));
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

}  // namespace

bool wait_ready(int fd, Transport::Wait wait, Deadline deadline) {
  pollfd p{fd, static_cast<short>(wait), 0};
  for (;;) {
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    // poll's timeout is capped (remaining_ms): only a passed deadline is one.
    if (r == 0 && !deadline.infinite && std::chrono::steady_clock::now() < deadline.at) continue;
    if (r == 0) return false;
    if (errno != EINTR) throw ConnectionLost(std::string("poll: ") + std::strerror(errno));
  }
}

Address parse_client_address(const std::string& address) {
  try {
    return parse_address(address);
  } catch (const std::invalid_argument& e) {
    throw ValueError(e.what());
  }
}

void throw_connect_error(const std::string& address, int err) {
  const std::string what = "cannot connect to " + address + ": " + std::strerror(err);
  if (err == ENOENT || err == ECONNREFUSED)
    throw NotListening(what + " (no server listening there: not started yet, or stopped)");
  throw ConnectionLost(what);
}

std::unique_ptr<Transport> connect_transport(const std::string& address,
                                             const ConnectOptions& options, Deadline deadline) {
  const Address a = parse_client_address(address);
  switch (a.type) {
    case Address::Type::unix_socket:
      return connect_unix(a, address, deadline);
    case Address::Type::tcp:
      return connect_tcp(a, address, deadline);
    case Address::Type::tls:
      return connect_tls(a, address, options.tls, deadline);
  }
  throw ValueError("unknown address type: " + address);
}

}  // namespace mpshare::detail
