// Array<T>: a fixed number of trivially copyable T in shared memory, like
// Python's multiprocessing.Array. Same model as Value<T> (value.hpp):
// mapped when local, RPC otherwise; single-element ops are lock-free
// atomics when Array<T>::lock_free, else locked; with_lock gives the whole
// array under the robust lock. Indices are 0..size()-1; others are
// IndexError.
//
// Thread-safe; a cheap copyable value, usable in forked children.
#pragma once

#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

#include "mpshare/detail/shared_memory.hpp"

namespace mpshare {

template <class T>
class Array : public detail::SharedProxy<T> {
  using Base = detail::SharedProxy<T>;

 public:
  Array() = default;
  Array(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name)
      : Base(std::move(core), id, std::move(name)) {}

  static std::string type_signature() { return "array<" + type_name<T>() + ">"; }
  // The open parameters for Manager::array: `size` zeros, or `init`.
  static Bytes params(std::size_t size) { return encode(Base::spec(size, {})); }
  static Bytes params(std::span<const T> init) {
    Bytes bytes(init.size_bytes(), '\0');
    if (!init.empty()) std::memcpy(bytes.data(), init.data(), init.size_bytes());
    return encode(Base::spec(init.size(), std::move(bytes)));
  }

  std::size_t size() const { return this->count(); }
  T load(std::size_t i) const { return this->load_at(this->checked(i)); }
  T operator[](std::size_t i) const { return load(i); }
  void store(std::size_t i, const T& v) { this->store_at(this->checked(i), v); }
  T exchange(std::size_t i, const T& v) { return this->exchange_at(this->checked(i), v); }
  bool compare_exchange(std::size_t i, const T& expected, const T& desired) {
    return this->compare_exchange_at(this->checked(i), expected, desired);
  }
  // Arithmetic T only; return the previous value.
  T fetch_add(std::size_t i, const T& d) { return this->fetch_add_at(this->checked(i), d, false); }
  T fetch_sub(std::size_t i, const T& d) { return this->fetch_add_at(this->checked(i), d, true); }
  // Element by element (each one atomic), or all at once for non-lock-free T.
  std::vector<T> to_vector() const { return this->to_vector_all(); }

  // Runs fn(std::span<T>) or fn(std::span<T>, bool owner_died) holding the
  // lock; returns what fn returns. Without a mapping fn works on a copy
  // that is written back when fn returns (or throws).
  template <class Fn>
  decltype(auto) with_lock(Fn&& fn) {
    return this->locked(fn, [](T* first, std::size_t n) { return std::span<T>(first, n); });
  }
};

template <class T>
struct TypeName<Array<T>> {
  static std::string get() { return Array<T>::type_signature(); }
};

}  // namespace mpshare
