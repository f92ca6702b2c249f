// Descriptors a forked child must not keep: every client connection and the
// spawned server's lifeline. A pthread_atfork child handler closes them all
// in the child and bumps the fork generation, so connections opened before
// the fork are known stale and never used (nor closed twice) there.
#pragma once

#include <cstdint>
#include <functional>

namespace mpshare::detail {

// Runs `open` (returning a new descriptor, or -1) and registers what it
// returns with no fork() in another thread in between, so no child ever
// keeps an unregistered copy. `open` must not block.
int open_inherited_fd(const std::function<int()>& open);
// Forgets and closes a descriptor open_inherited_fd gave, with no fork()
// in another thread in between.
void close_inherited_fd(int fd);
std::uint64_t fork_generation() noexcept;

}  // namespace mpshare::detail
