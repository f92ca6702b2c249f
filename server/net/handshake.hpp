// The server's side of the mutual HMAC-SHA-256 handshake, over the one
// definition of its bytes in protocol/handshake.hpp. One per session; not
// copyable.
#pragma once

#include <string>
#include <string_view>

#include "protocol/handshake.hpp"

namespace mpshare::server {

class ServerHandshake {
 public:
  // `key` must outlive the handshake.
  explicit ServerHandshake(std::string_view key) : key_(key) {}
  ServerHandshake(const ServerHandshake&) = delete;
  ServerHandshake& operator=(const ServerHandshake&) = delete;

  // Appends the hello, with a fresh nonce, to `out`.
  void hello(std::string& out) {
    nonce_ = detail::random_nonce();
    out += detail::server_hello(nonce_);
  }
  static constexpr std::size_t answer_size = detail::client_answer_size;
  // Checks the client's answer (answer_size bytes) and appends the verdict
  // to `out`; true when the client proved it knows the key.
  bool answer(std::string_view answer, std::string& out) {
    detail::ServerVerdict v = detail::server_verdict(key_, nonce_, answer);
    out += v.bytes;
    return v.accepted;
  }

 private:
  std::string_view key_;
  detail::Nonce nonce_{};
};

}  // namespace mpshare::server
