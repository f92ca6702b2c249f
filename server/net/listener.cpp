#include "listener.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "protocol/address.hpp"
#include "tcp.hpp"
#include "tls.hpp"
#include "unix.hpp"

namespace mpshare::server {

namespace {

constexpr std::chrono::milliseconds first_pause{10};
constexpr std::chrono::milliseconds max_pause{1000};

bool out_of_resources(const asio::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

int open_reserve() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

// Room for max_clients connections, as far as the hard limit allows.
void raise_descriptor_limit(std::size_t max_clients) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  rlim_t want = max_clients == 0 ? r.rlim_max : static_cast<rlim_t>(max_clients) + 64;
  if (r.rlim_max != RLIM_INFINITY) want = std::min(want, r.rlim_max);
  if (want <= r.rlim_cur) return;
  r.rlim_cur = want;
  ::setrlimit(RLIMIT_NOFILE, &r);
}

}  // namespace

AcceptGuard::AcceptGuard(const NetContext& net)
    : net_(net), reserve_(open_reserve()), pause_(net.io) {}

AcceptGuard::~AcceptGuard() {
  if (reserve_ >= 0) ::close(reserve_);
}

void AcceptGuard::failed(const asio::error_code& ec, int fd, std::function<void()> retry,
                         const std::function<void()>& retry_when_readable) {
  if (!out_of_resources(ec)) {
    // A connection that died in the backlog (ECONNABORTED and the like).
    log(LogLevel::info, "accept: " + ec.message());
    return retry();
  }
  pollfd waiting{fd, POLLIN, 0};
  if (::poll(&waiting, 1, 0) == 0) return retry_when_readable();
  if (net_.admission.drop_oldest_unauthenticated()) return retry();
  if (failures_++ == 0) log(LogLevel::warn, "accept: " + ec.message() + ": pausing accepts");
  if (reserve_ >= 0) {
    ::close(reserve_);
    const int s = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s >= 0) {
      ::close(s);
      ++turned_away_;
    }
    reserve_ = open_reserve();
  }
  backoff_ = std::clamp(backoff_ * 2, first_pause, max_pause);
  pause_.expires_after(backoff_);
  pause_.async_wait([retry = std::move(retry)](asio::error_code e) {
    if (!e) retry();
  });
}

void AcceptGuard::succeeded() {
  backoff_ = std::chrono::milliseconds(0);
  if (failures_ == 0) return;
  log(LogLevel::warn, "accept: resumed after " + std::to_string(failures_) + " failures; " +
                          std::to_string(turned_away_) + " connections closed unserved");
  failures_ = turned_away_ = 0;
}

void AcceptGuard::cancel() {
  pause_.cancel();
}

std::unique_ptr<Listener> listen(const std::string& address, const NetContext& net) {
  const detail::Address a = detail::parse_address(address);
  raise_descriptor_limit(net.options.max_clients);
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
