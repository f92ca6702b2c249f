// Unix-domain socket listeners: private (mode 0600) from birth, and the
// only transport that passes descriptors (SCM_RIGHTS).
#pragma once

#include <memory>
#include <string>

#include "listener.hpp"

namespace mpshare::server {

// Binds `path`, replacing a stale socket file; a live one is
// std::system_error(address_in_use). The file is removed with the listener.
std::unique_ptr<Listener> listen_unix(const std::string& path, const NetContext& net);

}  // namespace mpshare::server
