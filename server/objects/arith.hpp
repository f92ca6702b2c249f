// Server-side arithmetic on encoded values whose ValueCode the object
// recorded at creation. Decoding and encoding go through the codec.
#pragma once

#include <limits>
#include <type_traits>

#include "../call.hpp"

namespace mpshare::server {

namespace arith_detail {
template <class T>
Bytes add(const Bytes* current, const Bytes& delta) {
  T a = current ? decode<T>(*current) : T{};
  T b = decode<T>(delta);
  T r{};
  if constexpr (std::is_integral_v<T>) {
    if (__builtin_add_overflow(a, b, &r)) fail(Errc::value_error, "increment would overflow");
  } else {
    r = a + b;
  }
  return encode(r);
}
}  // namespace arith_detail

// Returns encode(decode(current or 0) + decode(delta)) for `code`. Fails
// with TypeMismatch for non-arithmetic codes, ValueError on overflow,
// ProtocolError when the bytes do not decode.
inline Bytes add_encoded(ValueCode code, const Bytes* current, const Bytes& delta) {
  using namespace arith_detail;
  switch (code) {
    case ValueCode::i8:
      return add<std::int8_t>(current, delta);
    case ValueCode::i16:
      return add<std::int16_t>(current, delta);
    case ValueCode::i32:
      return add<std::int32_t>(current, delta);
    case ValueCode::i64:
      return add<std::int64_t>(current, delta);
    case ValueCode::u8:
      return add<std::uint8_t>(current, delta);
    case ValueCode::u16:
      return add<std::uint16_t>(current, delta);
    case ValueCode::u32:
      return add<std::uint32_t>(current, delta);
    case ValueCode::u64:
      return add<std::uint64_t>(current, delta);
    case ValueCode::f32:
      return add<float>(current, delta);
    case ValueCode::f64:
      return add<double>(current, delta);
    default:
      break;
  }
  fail(Errc::type_mismatch, "increment needs an arithmetic value type");
}

}  // namespace mpshare::server
