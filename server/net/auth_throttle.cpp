#include "auth_throttle.hpp"

#include <algorithm>

namespace mpshare::server {

AuthThrottle::Clock::duration AuthThrottle::delay(unsigned failures) {
  if (failures <= free_failures) return Clock::duration::zero();
  const unsigned doublings = std::min(failures - free_failures - 1, 16u);
  return std::min<Clock::duration>(first_delay * (1u << doublings), max_delay);
}

std::optional<AuthThrottle::Clock::duration> AuthThrottle::before_hello(const std::string& peer,
                                                                        Clock::time_point now) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return Clock::duration::zero();
  Peer& p = it->second;
  if (now - p.last > forget_after) {
    peers_.erase(it);
    return Clock::duration::zero();
  }
  const Clock::duration d = delay(p.failures);
  if (d == Clock::duration::zero()) return d;
  const Clock::time_point turn = std::max(now, p.next_turn);
  if (turn - now > max_wait) return std::nullopt;
  p.next_turn = turn + d;
  return turn - now;
}

AuthThrottle::Clock::duration AuthThrottle::failed(const std::string& peer, Clock::time_point now) {
  if (peers_.size() >= max_peers && !peers_.count(peer)) forget_old(now);
  Peer& p = peers_[peer];
  if (now - p.last > forget_after) p = Peer{};
  ++p.failures;
  p.last = now;
  return delay(p.failures);
}

// Drops peers not heard of for forget_after; when all are recent, the
// table is full of attackers: start over rather than grow.
void AuthThrottle::forget_old(Clock::time_point now) {
  std::erase_if(peers_, [&](const auto& e) { return now - e.second.last > forget_after; });
  if (peers_.size() >= max_peers) peers_.clear();
}

}  // namespace mpshare::server
