// How user types become bytes. Keys and values travel as Cereal
// portable-binary blobs; the server stores them as opaque bytes, so any type
// Cereal can serialize (std containers, strings, structs with `serialize`)
// can be stored. Equal values of one type always encode to equal bytes,
// which is what Dict keys are compared by.
//
// Every object records a type signature built from type_name<T>(). To give a
// user type a stable, readable name, specialize mpshare::TypeName<T>:
//   template <> struct mpshare::TypeName<Job> { static std::string get() { return "Job"; } };
// Otherwise the compiler's type id is used, which is stable for programs
// built by the same compiler.
#pragma once

#include <array>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "mpshare/errors.hpp"

namespace mpshare {

// An encoded value: owned, opaque bytes.
using Bytes = std::string;

namespace detail {

// Cereal's portable-binary format written straight into a std::string it
// does not own (no stream, no locale): byte for byte what
// cereal::PortableBinaryOutputArchive writes with its default options.
class StringOutputArchive
    : public cereal::OutputArchive<StringOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit StringOutputArchive(std::string& out)
      : cereal::OutputArchive<StringOutputArchive, cereal::AllowEmptyClassElision>(this),
        out_(out) {
    out_.push_back(1);  // little-endian data follows
  }

  template <std::streamsize DataSize>
  void saveBinary(const void* data, std::streamsize size) {
    const auto n = static_cast<std::size_t>(size);
    if (n == 0) return;
    const std::size_t at = out_.size();
    out_.append(static_cast<const char*>(data), n);
    if (!cereal::portable_binary_detail::is_little_endian()) {
      auto* p = reinterpret_cast<std::uint8_t*>(out_.data() + at);
      for (std::size_t i = 0; i < n; i += DataSize)
        cereal::portable_binary_detail::swap_bytes<DataSize>(p + i);
    }
  }

 private:
  std::string& out_;
};

template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar,
                                                                    const T& t) {
  ar.template saveBinary<sizeof(T)>(std::addressof(t), sizeof(t));
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(StringOutputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(StringOutputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
}
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const cereal::BinaryData<T>& bd) {
  using TT = std::remove_pointer_t<T>;
  ar.template saveBinary<sizeof(TT)>(bd.data, static_cast<std::streamsize>(bd.size));
}

}  // namespace detail

// Appends the portable-binary encoding of `values...` (one archive) to `out`.
template <class... T>
void encode_into(std::string& out, const T&... values) {
  detail::StringOutputArchive ar(out);
  if constexpr (sizeof...(T) > 0) ar(values...);
}

template <class T>
Bytes encode(const T& value) {
  Bytes out;
  encode_into(out, value);
  return out;
}

// Encodes every item of `range`, in order, each as its own archive.
template <class Range>
std::vector<Bytes> encode_each(const Range& range) {
  std::vector<Bytes> out;
  if constexpr (requires { range.size(); }) out.reserve(range.size());
  for (const auto& v : range) out.push_back(encode(v));
  return out;
}

namespace detail {

// Cereal's portable-binary format, read from a byte range with every size
// checked before anything is allocated: a container or string may not
// declare more elements than the bytes left can hold (Cereal's own input
// archive resizes to a peer-given size first), a bool is 0 or 1, a wire
// enum is within its range. Reads what cereal::PortableBinaryOutputArchive
// writes, byte for byte. Thread safety: one archive per thread.
class CheckedInputArchive
    : public cereal::InputArchive<CheckedInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit CheckedInputArchive(std::string_view in)
      : cereal::InputArchive<CheckedInputArchive, cereal::AllowEmptyClassElision>(this), in_(in) {
    std::uint8_t little = 0;
    (*this)(little);
    swap_ = (little != 0) != (cereal::portable_binary_detail::is_little_endian() != 0);
  }

  template <std::streamsize DataSize>
  void loadBinary(void* const data, std::streamsize size) {
    auto n = static_cast<std::size_t>(size);
    if (n > remaining())
      throw cereal::Exception("cannot read " + std::to_string(n) + " bytes, " +
                              std::to_string(remaining()) + " left");
    if (n == 0) return;
    std::memcpy(data, in_.data() + pos_, n);
    pos_ += n;
    if (swap_) {
      auto* p = static_cast<std::uint8_t*>(data);
      for (std::size_t i = 0; i < n; i += DataSize)
        cereal::portable_binary_detail::swap_bytes<DataSize>(p + i);
    }
  }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool swap_ = false;
};

template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, T& t) {
  ar.template loadBinary<sizeof(T)>(std::addressof(t), sizeof(t));
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(CheckedInputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(CheckedInputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  if (static_cast<std::uint64_t>(t.size) > ar.remaining())
    throw cereal::Exception("declared size " + std::to_string(t.size) + " exceeds the " +
                            std::to_string(ar.remaining()) + " bytes left");
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, cereal::BinaryData<T>& bd) {
  using TT = std::remove_pointer_t<T>;
  ar.template loadBinary<sizeof(TT)>(bd.data, static_cast<std::streamsize>(bd.size));
}

// A bool is one byte, 0 or 1; any other byte is refused (it is no bool).
inline void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, bool& b) {
  std::uint8_t byte = 0;
  ar.loadBinary<1>(&byte, 1);
  if (byte > 1) throw cereal::Exception("byte " + std::to_string(byte) + " is not a bool");
  b = byte != 0;
}

// Enums decoded from the wire with a known largest value (specialize
// EnumLimit<E>::max) refuse anything above it.
template <class E>
struct EnumLimit;
template <class E, class = decltype(EnumLimit<E>::max)>
void CEREAL_LOAD_MINIMAL_FUNCTION_NAME(const CheckedInputArchive&, E& e,
                                       const std::underlying_type_t<E>& v) {
  if (v > static_cast<std::underlying_type_t<E>>(EnumLimit<E>::max))
    throw cereal::Exception("value " + std::to_string(+v) + " is out of range for its enum");
  e = static_cast<E>(v);
}

// The fewest bytes one value of T takes on the wire (0 when unknown, as for
// user types). A container may not declare more elements than the bytes
// left could hold at this size each, so what decoding allocates stays
// within a small multiple of the input: sizeof(T) / MinEncodedSize<T>.
template <class T, class Enable = void>
struct MinEncodedSize : std::integral_constant<std::size_t, 0> {};
template <class T>
struct MinEncodedSize<T, std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>>>
    : std::integral_constant<std::size_t, sizeof(T)> {};
// Containers: their element count.
#define MPSHARE_SIZED_CONTAINER(C) \
  template <class... A>            \
  struct MinEncodedSize<C<A...>>   \
      : std::integral_constant<std::size_t, sizeof(cereal::size_type)> {};
MPSHARE_SIZED_CONTAINER(std::basic_string)
MPSHARE_SIZED_CONTAINER(std::vector)
MPSHARE_SIZED_CONTAINER(std::deque)
MPSHARE_SIZED_CONTAINER(std::list)
MPSHARE_SIZED_CONTAINER(std::map)
MPSHARE_SIZED_CONTAINER(std::multimap)
MPSHARE_SIZED_CONTAINER(std::set)
MPSHARE_SIZED_CONTAINER(std::multiset)
MPSHARE_SIZED_CONTAINER(std::unordered_map)
MPSHARE_SIZED_CONTAINER(std::unordered_multimap)
MPSHARE_SIZED_CONTAINER(std::unordered_set)
MPSHARE_SIZED_CONTAINER(std::unordered_multiset)
#undef MPSHARE_SIZED_CONTAINER
template <class T>
struct MinEncodedSize<std::optional<T>> : std::integral_constant<std::size_t, 1> {};
template <class... A>
struct MinEncodedSize<std::variant<A...>>
    : std::integral_constant<std::size_t, sizeof(std::int32_t)> {};
template <class A, class B>
struct MinEncodedSize<std::pair<A, B>>
    : std::integral_constant<std::size_t, MinEncodedSize<A>::value + MinEncodedSize<B>::value> {};
template <class... A>
struct MinEncodedSize<std::tuple<A...>>
    : std::integral_constant<std::size_t, (std::size_t{0} + ... + MinEncodedSize<A>::value)> {};
template <class T, std::size_t N>
struct MinEncodedSize<std::array<T, N>>
    : std::integral_constant<std::size_t, N * MinEncodedSize<T>::value> {};

// Reads a container's element count: at most one element per byte left,
// and at most what the bytes left hold at MinEncodedSize<T> each.
template <class T>
std::size_t read_count(CheckedInputArchive& ar) {
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  constexpr std::size_t min = MinEncodedSize<T>::value;
  if (min > 1 && n > ar.remaining() / min)
    throw cereal::Exception("declared " + std::to_string(n) + " elements of at least " +
                            std::to_string(min) + " bytes, " + std::to_string(ar.remaining()) +
                            " bytes left");
  return static_cast<std::size_t>(n);
}

// Sequences grow as their elements arrive (Cereal's own loaders resize to
// the declared count first).
template <class Seq>
void load_sequence(CheckedInputArchive& ar, Seq& seq) {
  using T = typename Seq::value_type;
  const std::size_t n = read_count<T>(ar);
  seq.clear();
  if constexpr (requires { seq.reserve(n); })
    if (MinEncodedSize<T>::value > 0) seq.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      bool b = false;
      ar(b);
      seq.push_back(b);
    } else {
      ar(seq.emplace_back());
    }
  }
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, std::vector<T, A>& v) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    const std::size_t n = read_count<T>(ar);
    v.resize(n);
    ar(cereal::binary_data(v.data(), n * sizeof(T)));
  } else {
    load_sequence(ar, v);
  }
}
template <class A>
void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, std::vector<bool, A>& v) {
  load_sequence(ar, v);
}
template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, std::deque<T, A>& d) {
  load_sequence(ar, d);
}
template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, std::list<T, A>& l) {
  load_sequence(ar, l);
}
// Hash sets: no bucket array sized by the peer's count.
template <class Set>
void load_hash_set(CheckedInputArchive& ar, Set& s) {
  using K = typename Set::key_type;
  const std::size_t n = read_count<K>(ar);
  s.clear();
  for (std::size_t i = 0; i < n; ++i) {
    K k{};
    ar(k);
    s.emplace(std::move(k));
  }
}
template <class K, class H, class E, class A>
void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, std::unordered_set<K, H, E, A>& s) {
  load_hash_set(ar, s);
}
template <class K, class H, class E, class A>
void CEREAL_LOAD_FUNCTION_NAME(CheckedInputArchive& ar, std::unordered_multiset<K, H, E, A>& s) {
  load_hash_set(ar, s);
}

}  // namespace detail

// Decodes one archive holding `values...` from `in`. Throws ProtocolError if
// the bytes do not hold exactly those values.
template <class... T>
void decode_into(std::string_view in, T&... values) {
  try {
    detail::CheckedInputArchive ar(in);
    if constexpr (sizeof...(T) > 0) ar(values...);
    if (ar.remaining() != 0) throw ProtocolError("cannot decode payload: trailing bytes");
  } catch (const cereal::Exception& e) {
    throw ProtocolError(std::string("cannot decode payload: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw ProtocolError("cannot decode payload: declared size too large");
  }
}

template <class T>
T decode(std::string_view in) {
  T value{};
  decode_into(in, value);
  return value;
}

// Encodings the server understands, for server-side increment (arithmetic
// codes) and sort (every code but opaque). Fixed values (docs/PROTOCOL.md).
enum class ValueCode : std::uint8_t {
  opaque = 0,
  i8,
  i16,
  i32,
  i64,
  u8,
  u16,
  u32,
  u64,
  f32,
  f64,
  boolean,
  string  // std::string: a u64 length, then the bytes
};

namespace detail {
template <>
struct EnumLimit<ValueCode> {
  static constexpr ValueCode max = ValueCode::string;
};
}  // namespace detail

template <class T>
constexpr ValueCode value_code() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>)
    return ValueCode::boolean;
  else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    switch (sizeof(U)) {
      case 1:
        return ValueCode::i8;
      case 2:
        return ValueCode::i16;
      case 4:
        return ValueCode::i32;
      default:
        return ValueCode::i64;
    }
  } else if constexpr (std::is_integral_v<U>) {
    switch (sizeof(U)) {
      case 1:
        return ValueCode::u8;
      case 2:
        return ValueCode::u16;
      case 4:
        return ValueCode::u32;
      default:
        return ValueCode::u64;
    }
  } else if constexpr (std::is_same_v<U, float>)
    return ValueCode::f32;
  else if constexpr (std::is_same_v<U, double>)
    return ValueCode::f64;
  else if constexpr (std::is_same_v<U, std::string>)
    return ValueCode::string;
  else
    return ValueCode::opaque;
}

namespace detail {
constexpr bool is_arithmetic_code(ValueCode c) {
  return c != ValueCode::opaque && c != ValueCode::boolean && c != ValueCode::string;
}
}  // namespace detail

template <class T>
constexpr bool is_arithmetic_value = detail::is_arithmetic_code(value_code<T>());

// Customization point for type signatures; see the file comment.
template <class T, class Enable = void>
struct TypeName {
  static std::string get() { return std::string("cxx:") + typeid(T).name(); }
};

template <class T>
std::string type_name() {
  return TypeName<std::remove_cv_t<T>>::get();
}

namespace detail {
template <class... T>
std::string type_list() {
  std::string out;
  ((out += (out.empty() ? "" : ","), out += type_name<T>()), ...);
  return out;
}
}  // namespace detail

#define MPSHARE_TYPE_NAME(T, name)            \
  template <>                                 \
  struct TypeName<T> {                        \
    static std::string get() { return name; } \
  };
MPSHARE_TYPE_NAME(bool, "bool")
MPSHARE_TYPE_NAME(char, "char")
MPSHARE_TYPE_NAME(std::int8_t, "int8")
MPSHARE_TYPE_NAME(std::int16_t, "int16")
MPSHARE_TYPE_NAME(std::int32_t, "int32")
MPSHARE_TYPE_NAME(long, "int64")
MPSHARE_TYPE_NAME(long long, "int64")
MPSHARE_TYPE_NAME(std::uint8_t, "uint8")
MPSHARE_TYPE_NAME(std::uint16_t, "uint16")
MPSHARE_TYPE_NAME(std::uint32_t, "uint32")
MPSHARE_TYPE_NAME(unsigned long, "uint64")
MPSHARE_TYPE_NAME(unsigned long long, "uint64")
MPSHARE_TYPE_NAME(float, "float32")
MPSHARE_TYPE_NAME(double, "float64")
MPSHARE_TYPE_NAME(std::string, "string")
#undef MPSHARE_TYPE_NAME

// Container names list only the element types (not allocators, hashers).
#define MPSHARE_TEMPLATE_TYPE_NAME(Tmpl, name, unused, shown)                \
  template <class... A>                                                      \
  struct TypeName<Tmpl<A...>> {                                              \
    static std::string get() {                                               \
      return std::string(name "<") + shown_types<Tmpl<A...>, shown>() + ">"; \
    }                                                                        \
  };
namespace detail {
template <class T, std::size_t N>
struct FirstTypes;
template <template <class...> class Tmpl, class... A, std::size_t N>
struct FirstTypes<Tmpl<A...>, N> {
  template <std::size_t... I>
  static std::string names(std::index_sequence<I...>) {
    return type_list<std::tuple_element_t<I, std::tuple<A...>>...>();
  }
  static std::string get() {
    return names(std::make_index_sequence < N == 0 ? sizeof...(A) : N > ());
  }
};
}  // namespace detail
template <class T, std::size_t N>
std::string shown_types() {
  return detail::FirstTypes<T, N>::get();
}
MPSHARE_TEMPLATE_TYPE_NAME(std::vector, "vector", _, 1)
MPSHARE_TEMPLATE_TYPE_NAME(std::deque, "deque", _, 1)
MPSHARE_TEMPLATE_TYPE_NAME(std::list, "list", _, 1)
MPSHARE_TEMPLATE_TYPE_NAME(std::set, "set", _, 1)
MPSHARE_TEMPLATE_TYPE_NAME(std::unordered_set, "unordered_set", _, 1)
MPSHARE_TEMPLATE_TYPE_NAME(std::map, "map", _, 2)
MPSHARE_TEMPLATE_TYPE_NAME(std::unordered_map, "unordered_map", _, 2)
MPSHARE_TEMPLATE_TYPE_NAME(std::pair, "pair", _, 0)
MPSHARE_TEMPLATE_TYPE_NAME(std::tuple, "tuple", _, 0)
MPSHARE_TEMPLATE_TYPE_NAME(std::optional, "optional", _, 1)
MPSHARE_TEMPLATE_TYPE_NAME(std::variant, "variant", _, 0)
#undef MPSHARE_TEMPLATE_TYPE_NAME

template <class T, std::size_t N>
struct TypeName<std::array<T, N>> {
  static std::string get() { return "array<" + type_name<T>() + "," + std::to_string(N) + ">"; }
};

}  // namespace mpshare

CEREAL_REGISTER_ARCHIVE(mpshare::detail::CheckedInputArchive)
CEREAL_REGISTER_ARCHIVE(mpshare::detail::StringOutputArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(mpshare::detail::CheckedInputArchive,
                            mpshare::detail::StringOutputArchive)
