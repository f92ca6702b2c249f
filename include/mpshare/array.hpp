// Array<T>: a fixed number of trivially copyable T in shared memory, like
// Python's multiprocessing.Array. Same model as Value<T> (value.hpp):
// mapped when local, RPC otherwise; single-element ops are lock-free
// atomics when Array<T>::lock_free, else locked; with_lock gives the whole
// array under the robust lock, and slice/store_slice a range of it as one
// atomic read or write. Indices are 0..size()-1; others are IndexError.
//
// Thread-safe; a cheap copyable value, usable in forked children.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <iterator>
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

  // Python's a[start:stop]: the elements read as one snapshot under the
  // lock. `stop` is clamped to size(); empty when start >= stop.
  std::vector<T> slice(std::size_t start, std::size_t stop) const {
    stop = std::min(stop, size());
    if (start >= stop) return {};
    std::vector<T> out;
    out.reserve(stop - start);
    auto& b = this->block();
    if (b.mapped()) {
      detail::SharedLocalGuard g(b);
      for (std::size_t i = start; i < stop; ++i) out.push_back(read_slot(i));
      return out;
    }
    Bytes got = this->template call<detail::op::SharedReadRange>(std::uint64_t{start},
                                                                 std::uint64_t{stop - start});
    if (got.size() != out.capacity() * sizeof(T))
      throw ProtocolError("contents of unexpected size");
    for (std::size_t i = 0; i < stop - start; ++i)
      out.push_back(Base::from_bytes(got.data() + i * sizeof(T)));
    return out;
  }
  // Python's a[start:start + n] = values (n values): one write under the
  // lock. IndexError, and nothing written, unless it fits in the array.
  template <class Range>
  void store_slice(std::size_t start, const Range& values) {
    const std::vector<T> vs(std::begin(values), std::end(values));
    if (start > size() || vs.size() > size() - start)
      throw IndexError("store_slice of " + std::to_string(vs.size()) + " elements at " +
                       std::to_string(start) + " out of range for '" + this->name_ + "' of size " +
                       std::to_string(size()));
    auto& b = this->block();
    if (b.mapped()) {
      detail::SharedLocalGuard g(b);
      for (std::size_t i = 0; i < vs.size(); ++i) write_slot(start + i, vs[i]);
      return;
    }
    Bytes bytes(vs.size() * sizeof(T), '\0');
    if (!vs.empty()) std::memcpy(bytes.data(), vs.data(), bytes.size());
    this->template call<detail::op::SharedWriteRange>(std::uint64_t{start}, bytes);
  }
  void store_slice(std::size_t start, std::initializer_list<T> values) {
    store_slice<std::initializer_list<T>>(start, values);
  }

  // Runs fn(std::span<T>) or fn(std::span<T>, bool owner_died) holding the
  // lock; returns what fn returns. Without a mapping fn works on a copy
  // that is written back when fn returns (or throws).
  template <class Fn>
  decltype(auto) with_lock(Fn&& fn) {
    return this->locked(fn, [](T* first, std::size_t n) { return std::span<T>(first, n); });
  }

 private:
  // Mapped, holding the lock: lock-free single-element ops of others do
  // not take it, so lock-free elements are still accessed atomically.
  T read_slot(std::size_t i) const {
    if constexpr (Base::lock_free)
      return std::atomic_ref<T>(*this->slot(i)).load();
    else
      return Base::from_bytes(reinterpret_cast<const char*>(this->slot(i)));
  }
  void write_slot(std::size_t i, const T& v) {
    if constexpr (Base::lock_free)
      std::atomic_ref<T>(*this->slot(i)).store(v);
    else
      std::memcpy(static_cast<void*>(this->slot(i)), &v, sizeof(T));
  }
};

template <class T>
struct TypeName<Array<T>> {
  static std::string get() { return Array<T>::type_signature(); }
};

}  // namespace mpshare
