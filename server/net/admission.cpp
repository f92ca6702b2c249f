#include "admission.hpp"

#include <malloc.h>

#include "../log.hpp"
#include "session_core.hpp"

namespace mpshare::server {

namespace {
// Memory is given back once the clients fell to a quarter of a peak of at
// least this many, after a quiet moment.
constexpr std::size_t trim_peak = 1024;
constexpr auto trim_delay = std::chrono::milliseconds(250);
}  // namespace

Admission::Admission(asio::io_context& io, const ServerOptions& options)
    : options_(options), trim_timer_(io) {}

bool Admission::admit() {
  const std::size_t max_clients = options_.max_clients;
  if (max_clients != 0 && clients_ >= max_clients && !drop_oldest_unauthenticated()) {
    log(LogLevel::warn, "connection refused: " + std::to_string(clients_) +
                            " clients, the maximum (--max-clients)");
    return false;
  }
  const std::size_t max_pending = options_.max_unauthenticated;
  if (max_pending != 0 && pending_.size() >= max_pending) drop_oldest_unauthenticated();
  return true;
}

bool Admission::drop_oldest_unauthenticated() {
  if (pending_.empty()) return false;
  SessionCore* oldest = pending_.front();
  log(LogLevel::info, oldest->tag() + ": dropped to make room, still not authenticated");
  oldest->close();  // leaves pending_
  return true;
}

Admission::Ticket Admission::joined(SessionCore* s) {
  ++clients_;
  if (clients_ > peak_) peak_ = clients_;
  return pending_.insert(pending_.end(), s);
}

void Admission::authenticated(Ticket t) {
  pending_.erase(t);
}

void Admission::left(const Ticket* unauthenticated) {
  if (unauthenticated) pending_.erase(*unauthenticated);
  --clients_;
  maybe_trim();
}

// glibc gives freed memory back to the system only from the top of its
// heap, so thousands of freed session buffers below one live allocation
// stay resident; malloc_trim releases those pages. Once per mass
// disconnect, not per session.
void Admission::maybe_trim() {
  if (trim_armed_ || peak_ < trim_peak || clients_ > peak_ / 4) return;
  trim_armed_ = true;
  trim_timer_.expires_after(trim_delay);
  trim_timer_.async_wait([this](asio::error_code ec) {
    trim_armed_ = false;
    if (ec) return;
    peak_ = clients_;
    ::malloc_trim(0);
  });
}

}  // namespace mpshare::server
