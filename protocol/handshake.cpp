#include "protocol/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

#include "mpshare/errors.hpp"

namespace mpshare::detail {

namespace {
constexpr std::string_view client_label = "mpshare-client";
constexpr std::string_view server_label = "mpshare-server";

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
}  // namespace

void check_key(std::string_view key) {
  if (key.size() < min_key_size)
    throw ValueError("the auth key has " + std::to_string(key.size()) + " bytes; at least " +
                     std::to_string(min_key_size) +
                     " are needed (make one with AuthKey::random(), or: head -c 32 "
                     "/dev/urandom > FILE)");
}

Mac handshake_mac(std::string_view key, std::string_view label, const unsigned char* server_nonce,
                  const unsigned char* client_nonce) {
  std::string msg(label);
  msg.append(reinterpret_cast<const char*>(server_nonce), nonce_size);
  msg.append(reinterpret_cast<const char*>(client_nonce), nonce_size);
  Mac out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes_of(msg), msg.size(),
           out.data(), &len) == nullptr ||
      len != mac_size)
    throw Error(Errc::remote_error, "HMAC-SHA-256 failed");
  return out;
}

bool mac_equal(const unsigned char* a, const unsigned char* b) noexcept {
  return CRYPTO_memcmp(a, b, mac_size) == 0;
}

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1)
    throw Error(Errc::remote_error, "cannot get random bytes");
}

Nonce random_nonce() {
  Nonce n;
  random_bytes(n.data(), n.size());
  return n;
}

std::string server_hello(const Nonce& server_nonce) {
  std::string hello(server_hello_size, '\0');
  std::memcpy(hello.data(), magic.data(), magic.size());
  hello[4] = static_cast<char>(protocol_version & 0xFF);
  hello[5] = static_cast<char>(protocol_version >> 8);
  std::memcpy(hello.data() + 8, server_nonce.data(), nonce_size);
  return hello;
}

Nonce read_server_hello(std::string_view hello) {
  if (hello.size() != server_hello_size ||
      hello.substr(0, magic.size()) != std::string_view(magic.data(), magic.size()))
    throw ProtocolError("not an mpshare server (bad greeting)");
  unsigned version = bytes_of(hello)[4] | (bytes_of(hello)[5] << 8);
  if (version != protocol_version)
    throw ProtocolError("server speaks protocol version " + std::to_string(version) +
                        ", this client " + std::to_string(protocol_version));
  Nonce n;
  std::memcpy(n.data(), hello.data() + 8, nonce_size);
  return n;
}

std::string client_answer(std::string_view key, const Nonce& server_nonce,
                          const Nonce& client_nonce) {
  Mac mac = handshake_mac(key, client_label, server_nonce.data(), client_nonce.data());
  std::string answer(reinterpret_cast<const char*>(client_nonce.data()), nonce_size);
  answer.append(reinterpret_cast<const char*>(mac.data()), mac_size);
  return answer;
}

ServerVerdict server_verdict(std::string_view key, const Nonce& server_nonce,
                             std::string_view answer) {
  ServerVerdict v;
  v.bytes.assign(server_verdict_size, '\0');
  v.bytes[0] = static_cast<char>(Errc::auth_error);
  if (answer.size() != client_answer_size) return v;
  const unsigned char* client_nonce = bytes_of(answer);
  Mac expected = handshake_mac(key, client_label, server_nonce.data(), client_nonce);
  if (!mac_equal(expected.data(), client_nonce + nonce_size)) return v;
  v.bytes[0] = 0;
  Mac proof = handshake_mac(key, server_label, server_nonce.data(), client_nonce);
  std::memcpy(v.bytes.data() + 8, proof.data(), mac_size);
  v.accepted = true;
  return v;
}

void check_server_verdict(std::string_view key, const Nonce& server_nonce,
                          const Nonce& client_nonce, std::string_view verdict) {
  if (verdict.size() != server_verdict_size || verdict[0] != 0)
    throw AuthError("server refused the authentication key");
  Mac proof = handshake_mac(key, server_label, server_nonce.data(), client_nonce.data());
  if (!mac_equal(proof.data(), bytes_of(verdict) + 8))
    throw AuthError("server could not prove it knows the authentication key");
}

}  // namespace mpshare::detail
