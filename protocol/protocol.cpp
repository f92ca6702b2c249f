#include "mpshare/detail/protocol.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

namespace mpshare {

namespace {

class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "mpshare"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok:
        return "success";
      case Errc::key_error:
        return "key not found";
      case Errc::index_error:
        return "index out of range";
      case Errc::type_mismatch:
        return "type mismatch";
      case Errc::auth_error:
        return "authentication failed";
      case Errc::connection_lost:
        return "connection lost";
      case Errc::timeout:
        return "timed out";
      case Errc::broken_barrier:
        return "broken barrier";
      case Errc::protocol_error:
        return "protocol error";
      case Errc::remote_error:
        return "remote error";
      case Errc::value_error:
        return "invalid value";
      case Errc::state_error:
        return "invalid state";
      case Errc::no_such_object:
        return "no such object";
    }
    return "unknown mpshare error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

void throw_error(Errc code, const std::string& what) {
  switch (code) {
    case Errc::key_error:
      throw KeyError(what);
    case Errc::index_error:
      throw IndexError(what);
    case Errc::type_mismatch:
      throw TypeMismatch(what);
    case Errc::auth_error:
      throw AuthError(what);
    case Errc::connection_lost:
      throw ConnectionLost(what);
    case Errc::timeout:
      throw Timeout(what);
    case Errc::broken_barrier:
      throw BrokenBarrier(what);
    case Errc::protocol_error:
      throw ProtocolError(what);
    case Errc::value_error:
      throw ValueError(what);
    case Errc::state_error:
      throw StateError(what);
    case Errc::no_such_object:
      throw NoSuchObject(what);
    case Errc::ok:
    case Errc::remote_error:
      break;
  }
  throw RemoteError(what);
}

std::string_view kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::none:
      return "none";
    case Kind::dict:
      return "dict";
    case Kind::list:
      return "list";
    case Kind::queue:
      return "queue";
    case Kind::joinable_queue:
      return "joinable_queue";
    case Kind::lock:
      return "lock";
    case Kind::rlock:
      return "rlock";
    case Kind::condition:
      return "condition";
    case Kind::semaphore:
      return "semaphore";
    case Kind::bounded_semaphore:
      return "bounded_semaphore";
    case Kind::event:
      return "event";
    case Kind::barrier:
      return "barrier";
    case Kind::value:
      return "value";
    case Kind::array:
      return "array";
  }
  return "unknown";
}

namespace detail {

void throw_reply_error(std::uint16_t status, std::string_view payload) {
  std::string message;
  try {
    decode_into(payload, message);
  } catch (const Error&) {
    message = "(undecodable error message)";
  }
  throw_error(static_cast<Errc>(status), message);
}

const char* op_name(std::uint16_t code) noexcept {
  switch (code) {
#define MPSHARE_OP(Name, code_, ...) \
  case code_:                        \
    return #Name;
#include "mpshare/detail/ops.def"
#undef MPSHARE_OP
  }
  return nullptr;
}

namespace {
template <class T>
void put_le(char* out, T v) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
template <class T>
T get_le(const char* in) noexcept {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<T>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}
}  // namespace

void write_header(const FrameHeader& h, char* out) noexcept {
  put_le(out, h.length);
  put_le(out + 4, h.op);
  put_le(out + 6, h.flags);
  put_le(out + 8, h.request);
  put_le(out + 16, h.object);
}

FrameHeader read_header(const char* in) noexcept {
  return FrameHeader{get_le<std::uint32_t>(in), get_le<std::uint16_t>(in + 4),
                     get_le<std::uint16_t>(in + 6), get_le<std::uint64_t>(in + 8),
                     get_le<std::uint64_t>(in + 16)};
}

std::array<unsigned char, mac_size> handshake_mac(std::string_view key, std::string_view label,
                                                  const unsigned char* server_nonce,
                                                  const unsigned char* client_nonce) {
  std::string msg(label);
  msg.append(reinterpret_cast<const char*>(server_nonce), nonce_size);
  msg.append(reinterpret_cast<const char*>(client_nonce), nonce_size);
  std::array<unsigned char, mac_size> out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out.data(),
           &len) == nullptr ||
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

}  // namespace detail
}  // namespace mpshare

namespace mpshare::detail {

Address parse_address(const std::string& address) {
  Address a;
  if (address.rfind("unix:", 0) == 0) {
    a.type = Address::Type::unix_socket;
    a.path = address.substr(5);
    if (a.path.empty()) throw std::invalid_argument("empty unix socket path in '" + address + "'");
    return a;
  }
  if (address.rfind("tcp://", 0) == 0) {
    a.type = Address::Type::tcp;
    std::string rest = address.substr(6);
    auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon + 1 == rest.size())
      throw std::invalid_argument("missing port in '" + address + "'");
    a.host = rest.substr(0, colon);
    if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']')
      a.host = a.host.substr(1, a.host.size() - 2);
    if (a.host.empty()) throw std::invalid_argument("missing host in '" + address + "'");
    std::string port = rest.substr(colon + 1);
    unsigned long p = 0;
    std::size_t used = 0;
    try {
      p = std::stoul(port, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != port.size() || p > 65535)
      throw std::invalid_argument("bad port in '" + address + "'");
    a.port = static_cast<std::uint16_t>(p);
    return a;
  }
  throw std::invalid_argument("address must be unix:/path or tcp://host:port, not '" + address +
                              "'");
}

}  // namespace mpshare::detail
