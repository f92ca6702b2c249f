// The handshake, private to the server and the client library: the one
// definition of its bytes that both sides use. A mutual HMAC-SHA-256
// challenge over the shared key (docs/PROTOCOL.md, "Handshake"):
//   1. server -> client: server_hello(server nonce)
//   2. client -> server: client_answer(client nonce, client proof)
//   3. server -> client: server_verdict(status, server proof)
// Thread-safe: every function is pure apart from the random source.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mpshare::detail {

inline constexpr std::size_t nonce_size = 32;
inline constexpr std::size_t mac_size = 32;
inline constexpr std::array<char, 4> magic = {'M', 'P', 'S', 'H'};
inline constexpr std::uint16_t protocol_version = 1;
// Server hello: magic(4) version(u16) reserved(u16) server_nonce(32) = 40 bytes.
inline constexpr std::size_t server_hello_size = 8 + nonce_size;
// Client answer: client_nonce(32) mac(32) = 64 bytes.
inline constexpr std::size_t client_answer_size = nonce_size + mac_size;
// Server verdict: status(u16) reserved(u16) pad(u32) mac(32) = 40 bytes.
inline constexpr std::size_t server_verdict_size = 8 + mac_size;

// Keys shorter than this are refused, by clients and servers alike.
inline constexpr std::size_t min_key_size = 16;
// Throws ValueError, saying how to make a good key, when `key` is shorter
// than min_key_size.
void check_key(std::string_view key);

using Nonce = std::array<unsigned char, nonce_size>;
using Mac = std::array<unsigned char, mac_size>;

// HMAC-SHA-256(key, label || server_nonce || client_nonce). `label` is
// "mpshare-client" for the client's proof, "mpshare-server" for the server's.
Mac handshake_mac(std::string_view key, std::string_view label, const unsigned char* server_nonce,
                  const unsigned char* client_nonce);
// Constant-time comparison of two MACs.
bool mac_equal(const unsigned char* a, const unsigned char* b) noexcept;
// Cryptographically random bytes (OpenSSL); throws Error on failure.
void random_bytes(unsigned char* out, std::size_t n);
Nonce random_nonce();

// Step 1, made by the server.
std::string server_hello(const Nonce& server_nonce);
// Step 1, read by the client: the server's nonce. Throws ProtocolError when
// `hello` (server_hello_size bytes) is not an mpshare greeting of this version.
Nonce read_server_hello(std::string_view hello);

// Step 2, made by the client with a fresh nonce of its own.
std::string client_answer(std::string_view key, const Nonce& server_nonce,
                          const Nonce& client_nonce);

// Step 3, made by the server from the client's answer (client_answer_size
// bytes): accepted when the client proved it knows the key; the verdict
// bytes are sent either way.
struct ServerVerdict {
  bool accepted = false;
  std::string bytes;
};
ServerVerdict server_verdict(std::string_view key, const Nonce& server_nonce,
                             std::string_view answer);

// Step 3, checked by the client. Throws AuthError when the server refused
// the key or could not prove it knows it.
void check_server_verdict(std::string_view key, const Nonce& server_nonce,
                          const Nonce& client_nonce, std::string_view verdict);

}  // namespace mpshare::detail
