// Slows down a peer that keeps failing the handshake, without slowing any
// other peer. A peer is a user id for Unix sockets (SO_PEERCRED), an
// address for TCP and TLS. Used only on the event-loop thread. Owned by
// the Server.
//
// After free_failures failed handshakes, each further failure of that peer
// waits delay(n) before its verdict (100 ms, doubling, at most 2 s), and
// its new connections get their hello one at a time, delay(n) apart; one
// whose turn is more than max_wait away gets no hello and is closed after
// max_delay. Nothing blocks
// the event loop: the session waits on a timer. A peer is forgotten after
// forget_after without a failure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

namespace mpshare::server {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr unsigned free_failures = 3;
  static constexpr std::chrono::milliseconds first_delay{100};
  static constexpr std::chrono::milliseconds max_delay{2000};
  static constexpr std::chrono::milliseconds max_wait{10000};
  static constexpr std::chrono::seconds forget_after{60};
  static constexpr std::size_t max_peers = 4096;

  // How long a new connection from `peer` waits before its hello; nullopt:
  // close it now.
  std::optional<Clock::duration> before_hello(const std::string& peer, Clock::time_point now);
  // A handshake of `peer` failed: how long to wait before saying so.
  Clock::duration failed(const std::string& peer, Clock::time_point now);

  static Clock::duration delay(unsigned failures);

 private:
  struct Peer {
    unsigned failures = 0;
    Clock::time_point last{};       // last failure
    Clock::time_point next_turn{};  // earliest next hello
  };
  void forget_old(Clock::time_point now);

  std::unordered_map<std::string, Peer> peers_;
};

}  // namespace mpshare::server
