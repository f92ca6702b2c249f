// TLS listeners (tls://): TCP under OpenSSL, with the server's certificate
// and, when a client CA is set, client certificates required. The HMAC
// handshake runs inside TLS.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "listener.hpp"

namespace mpshare::server {

// Throws std::invalid_argument when net.options.tls lacks a certificate or
// key, and std::system_error naming the file OpenSSL refused.
std::unique_ptr<Listener> listen_tls(const std::string& host, std::uint16_t port,
                                     const NetContext& net);

}  // namespace mpshare::server
