// Dict<K, V>: a shared, insertion-ordered map held by the server.
// Thread-safe; every method is one atomic server operation.
#pragma once

#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "mpshare/detail/describe.hpp"
#include "mpshare/detail/proxy.hpp"

namespace mpshare {

template <class K, class V>
class Dict : public detail::ProxyBase {
 public:
  using key_type = K;
  using mapped_type = V;

  Dict() = default;
  Dict(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name)
      : ProxyBase(std::move(core), id, std::move(name)) {}

  static std::string type_signature() {
    return "dict<" + type_name<K>() + "," + type_name<V>() + ">";
  }

  void set(const K& key, const V& value) { call<detail::op::DictSet>(encode(key), encode(value)); }
  // Throws KeyError when absent.
  V get(const K& key) const {
    try {
      return decode_value<V>(call<detail::op::DictGet>(encode(key)));
    } catch (const KeyError& e) {
      throw missing(key, e);
    }
  }
  std::optional<V> find(const K& key) const {
    auto v = call<detail::op::DictFind>(encode(key));
    if (!v) return std::nullopt;
    return decode_value<V>(*v);
  }
  V get_or(const K& key, const V& fallback) const {
    auto v = find(key);
    return v ? std::move(*v) : fallback;
  }
  bool contains(const K& key) const { return call<detail::op::DictContains>(encode(key)); }
  // Returns whether the key was present.
  bool erase(const K& key) { return call<detail::op::DictErase>(encode(key)); }
  // Inserts `value` when absent; returns the value now stored.
  V setdefault(const K& key, const V& value) {
    return decode_value<V>(call<detail::op::DictSetDefault>(encode(key), encode(value)));
  }
  // Removes and returns; KeyError when absent.
  V pop(const K& key) {
    try {
      return decode_value<V>(call<detail::op::DictPop>(encode(key)));
    } catch (const KeyError& e) {
      throw missing(key, e);
    }
  }
  // Removes and returns the last inserted entry (Python's popitem);
  // KeyError when empty.
  std::pair<K, V> popitem() {
    auto [k, v] = call<detail::op::DictPopItem>();
    return {decode_value<K>(k), decode_value<V>(v)};
  }
  void update(std::initializer_list<std::pair<K, V>> items) { update_range(items); }
  template <class Range>
  void update_range(const Range& items) {
    call<detail::op::DictUpdate>(encode_pairs(items));
  }

  // The open parameters for Manager::dict with initial contents (a range
  // of key-value pairs).
  template <class Range>
  static Bytes params(const Range& items) {
    return encode(encode_pairs(items));
  }
  // Atomic on the server; a missing key counts as 0. Returns the new value.
  V increment(const K& key, const V& delta = V{1}) requires is_arithmetic_value<V> {
    return decode_value<V>(call<detail::op::DictIncrement>(encode(key), encode(delta)));
  }
  // Atomic: stores `desired` if the value equals `expected`.
  bool compare_exchange(const K& key, const V& expected, const V& desired) {
    return call<detail::op::DictCompareExchange>(encode(key), encode(expected), encode(desired));
  }
  std::size_t size() const { return call<detail::op::DictSize>(); }
  bool empty() const { return size() == 0; }
  std::vector<K> keys() const { return decode_all<K>(call<detail::op::DictKeys>()); }
  std::vector<V> values() const { return decode_all<V>(call<detail::op::DictValues>()); }
  std::vector<std::pair<K, V>> items() const {
    std::vector<std::pair<K, V>> out;
    for (auto& [k, v] : call<detail::op::DictItems>())
      out.emplace_back(decode_value<K>(k), decode_value<V>(v));
    return out;
  }
  void clear() { call<detail::op::DictClear>(); }

  // d[k] names an entry; `d[k] += n` is one server-side increment,
  // `d[k] = v` one set, and reading it one get.
  class Entry {
   public:
    Entry(Dict& dict, K key) : dict_(dict), key_(std::move(key)) {}
    operator V() const { return dict_.get(key_); }
    Entry& operator=(const V& v) {
      dict_.set(key_, v);
      return *this;
    }
    V operator+=(const V& d) requires is_arithmetic_value<V> { return dict_.increment(key_, d); }
    V operator-=(const V& d) requires is_arithmetic_value<V> {
      return dict_.increment(key_, static_cast<V>(-d));
    }
    V operator++() requires is_arithmetic_value<V> { return dict_.increment(key_, V{1}); }

   private:
    Dict& dict_;
    K key_;
  };
  Entry operator[](const K& key) { return Entry(*this, key); }

 private:
  template <class Range>
  static detail::BytesPairs encode_pairs(const Range& items) {
    detail::BytesPairs out;
    for (const auto& [k, v] : items) out.emplace_back(encode(k), encode(v));
    return out;
  }
  // The server's KeyError, naming the key when it can be printed.
  KeyError missing(const K& key, const KeyError& e) const {
    return KeyError(detail::not_found("key", key, "dict", name(), e.what()));
  }
};

template <class K, class V>
struct TypeName<Dict<K, V>> {
  static std::string get() { return Dict<K, V>::type_signature(); }
};

}  // namespace mpshare

// A Dict has a mapped_type, which also makes Cereal's generic map
// serializer match it: a Dict is serialized as the proxy it is (its member
// save/load), so that it can be stored inside containers.
namespace cereal {
template <class Archive, class K, class V>
struct specialize<Archive, mpshare::Dict<K, V>, specialization::member_load_save> {};
}  // namespace cereal
