// What listeners and sessions share. Used only on the event-loop thread.
#pragma once

#include <asio/io_context.hpp>

#include "../options.hpp"

namespace mpshare::server {

class Admission;
class AuthThrottle;
class Dispatcher;
class SessionManager;

// Owned by the Server; outlives every listener and session.
struct NetContext {
  asio::io_context& io;
  Dispatcher& dispatcher;
  SessionManager& sessions;
  const ServerOptions& options;
  Admission& admission;
  AuthThrottle& throttle;
};

}  // namespace mpshare::server
