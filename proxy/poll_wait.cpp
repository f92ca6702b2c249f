#include "poll_wait.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "mpshare/errors.hpp"

namespace mpshare::detail {

bool poll_until_ready(pollfd* fds, std::size_t n, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int ms = -1;
    if (timeout.count() >= 0) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
    }
    int r = ::poll(fds, static_cast<nfds_t>(n), ms);
    if (r > 0) return true;
    if (r == 0 && ms >= 0 && std::chrono::steady_clock::now() >= until) return false;
    if (r < 0 && errno != EINTR) throw StateError(std::string("poll: ") + std::strerror(errno));
  }
}

}  // namespace mpshare::detail
