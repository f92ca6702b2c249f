// Who may hold a connection: the caps on connections (ServerOptions::
// max_clients, max_unauthenticated), and giving memory back after a mass
// disconnect. Used only on the event-loop thread. Owned by the Server;
// outlives every listener and session.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstddef>
#include <list>

#include "../options.hpp"

namespace mpshare::server {

class SessionCore;

class Admission {
 public:
  Admission(asio::io_context& io, const ServerOptions& options);
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // A connection was accepted. When a cap is reached, closes the oldest
  // connection still authenticating to make room: a flood of idle
  // connections cannot lock legitimate clients out. False when there is
  // no room (max_clients reached, every connection authenticated): the
  // caller closes the new connection.
  bool admit();
  // Closes the oldest connection still authenticating; false when there
  // is none.
  bool drop_oldest_unauthenticated();

  // Bookkeeping of SessionCore: a session starts authenticating, has
  // authenticated, has closed (each at most once, in that order; the
  // second may be skipped).
  using Ticket = std::list<SessionCore*>::iterator;
  Ticket joined(SessionCore* s);
  void authenticated(Ticket t);
  void left(const Ticket* unauthenticated);

 private:
  void maybe_trim();

  const ServerOptions& options_;
  std::list<SessionCore*> pending_;  // still authenticating, oldest first
  std::size_t clients_ = 0;
  std::size_t peak_ = 0;  // most clients since memory was last given back
  asio::steady_timer trim_timer_;
  bool trim_armed_ = false;
};

}  // namespace mpshare::server
