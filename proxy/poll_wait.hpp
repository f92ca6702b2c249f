// poll() with a deadline kept across EINTR, for Process and Pipe waits.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstddef>

namespace mpshare::detail {

// Polls `fds` until one has an event or `timeout` passed (negative: no
// limit); false on timeout. StateError when poll() fails.
bool poll_until_ready(pollfd* fds, std::size_t n, std::chrono::milliseconds timeout);

// The same for one descriptor waiting to be readable.
inline bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return poll_until_ready(&p, 1, timeout);
}

}  // namespace mpshare::detail
