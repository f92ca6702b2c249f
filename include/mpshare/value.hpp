// Value<T>: one trivially copyable T in shared memory, like Python's
// multiprocessing.Value. A process on the server's host maps the memory and
// operates on it with no round trip; other clients get the same results by
// RPC. Single-element ops are std::atomic_ref operations when T is
// lock-free (Value<T>::lock_free), otherwise they take the object's lock.
//
// The lock is a robust, process-shared, recursive mutex: a process that
// dies holding it blocks no one; the next holder is told (with_lock's fn
// may take a `bool owner_died`, SharedLock::acquire() returns it).
// with_lock excludes other lockers and, for non-lock-free T, every other
// op; lock-free ops do not wait for the lock, so do not mix them with
// with_lock writes when both must be atomic together.
//
// Thread-safe; a cheap copyable value, usable in forked children.
#pragma once

#include <type_traits>
#include <utility>

#include "mpshare/detail/shared_memory.hpp"

namespace mpshare {

template <class T>
class Value : public detail::SharedProxy<T> {
  using Base = detail::SharedProxy<T>;

 public:
  Value() = default;
  Value(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name)
      : Base(std::move(core), id, std::move(name)) {}

  static std::string type_signature() { return "value<" + type_name<T>() + ">"; }
  // The open parameters for Manager::value.
  static Bytes params(const T& initial) { return encode(Base::spec(1, Base::to_bytes(initial))); }

  T load() const { return this->load_at(0); }
  void store(const T& v) { this->store_at(0, v); }
  T exchange(const T& v) { return this->exchange_at(0, v); }
  // Stores `desired` if the value equals `expected` (same bytes); returns
  // whether it did.
  bool compare_exchange(const T& expected, const T& desired) {
    return this->compare_exchange_at(0, expected, desired);
  }
  // Arithmetic T only; return the previous value.
  T fetch_add(const T& d) { return this->fetch_add_at(0, d, false); }
  T fetch_sub(const T& d) { return this->fetch_add_at(0, d, true); }

  // Runs fn(T&) or fn(T&, bool owner_died) holding the lock; returns what
  // fn returns. Without a mapping fn works on a copy that is written back
  // when fn returns (or throws).
  template <class Fn>
  decltype(auto) with_lock(Fn&& fn) {
    return this->locked(fn, [](T* first, std::size_t) -> T& { return *first; });
  }
};

template <class T>
struct TypeName<Value<T>> {
  static std::string get() { return Value<T>::type_signature(); }
};

}  // namespace mpshare
