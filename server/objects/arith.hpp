// Server-side arithmetic on encoded values whose ValueCode the object
// recorded at creation. Decoding and encoding go through the codec.
#pragma once

#include <limits>
#include <string>
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

// Calls f(T{}) for the arithmetic type T that `code` names and returns its
// result; TypeMismatch ("<what> needs an arithmetic ...") for other codes.
template <class F>
decltype(auto) with_arithmetic_type(ValueCode code, const char* what, F&& f) {
  switch (code) {
    case ValueCode::i8:
      return f(std::int8_t{});
    case ValueCode::i16:
      return f(std::int16_t{});
    case ValueCode::i32:
      return f(std::int32_t{});
    case ValueCode::i64:
      return f(std::int64_t{});
    case ValueCode::u8:
      return f(std::uint8_t{});
    case ValueCode::u16:
      return f(std::uint16_t{});
    case ValueCode::u32:
      return f(std::uint32_t{});
    case ValueCode::u64:
      return f(std::uint64_t{});
    case ValueCode::f32:
      return f(float{});
    case ValueCode::f64:
      return f(double{});
    default:
      break;
  }
  fail(Errc::type_mismatch, std::string(what) + " needs an arithmetic value type");
}

// Returns encode(decode(current or 0) + decode(delta)) for `code`. Fails
// with TypeMismatch for non-arithmetic codes, ValueError on overflow,
// ProtocolError when the bytes do not decode.
inline Bytes add_encoded(ValueCode code, const Bytes* current, const Bytes& delta) {
  return with_arithmetic_type(
      code, "increment", [&](auto t) { return arith_detail::add<decltype(t)>(current, delta); });
}

}  // namespace mpshare::server
