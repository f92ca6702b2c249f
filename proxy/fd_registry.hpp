// Descriptors a forked child must not keep: every client connection and the
// spawned server's lifeline. A pthread_atfork child handler closes them all
// in the child and bumps the fork generation, so connections opened before
// the fork are known stale and never used (nor closed twice) there.
#pragma once

#include <cstdint>

namespace mpshare::detail {

void register_inherited_fd(int fd);
void unregister_inherited_fd(int fd);  // call before closing fd yourself
std::uint64_t fork_generation() noexcept;

}  // namespace mpshare::detail
