// Set<T>: a shared set held by the server, like the `set` of Python 3.14's
// SyncManager. Items compare by their encoding (codec.hpp): equal values
// of T are equal items. Iteration order (to_vector, pop) is unspecified.
// Thread-safe; every method is one atomic server operation.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "mpshare/detail/describe.hpp"
#include "mpshare/detail/proxy.hpp"

namespace mpshare {

template <class T>
class Set : public detail::ProxyBase {
 public:
  using value_type = T;

  Set() = default;
  Set(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name)
      : ProxyBase(std::move(core), id, std::move(name)) {}

  static std::string type_signature() { return "set<" + type_name<T>() + ">"; }

  // Returns whether `v` was new.
  bool add(const T& v) { return call<detail::op::SetAdd>(encode(v)); }
  // Returns whether `v` was there.
  bool discard(const T& v) { return call<detail::op::SetDiscard>(encode(v)); }
  // KeyError when `v` is not there.
  void remove(const T& v) {
    try {
      call<detail::op::SetRemove>(encode(v));
    } catch (const KeyError& e) {
      throw KeyError(detail::not_found("item", v, "set", name(), e.what()));
    }
  }
  bool contains(const T& v) const { return call<detail::op::SetContains>(encode(v)); }
  std::size_t size() const { return call<detail::op::SetSize>(); }
  bool empty() const { return size() == 0; }
  // Removes and returns some item; KeyError when empty.
  T pop() { return decode_value<T>(call<detail::op::SetPop>()); }
  void clear() { call<detail::op::SetClear>(); }
  // Adds every item; returns how many were new.
  std::size_t update(std::initializer_list<T> vs) { return update_range(vs); }
  template <class Range>
  std::size_t update_range(const Range& vs) {
    return call<detail::op::SetUpdate>(encode_each(vs));
  }
  std::vector<T> to_vector() const { return decode_all<T>(call<detail::op::SetItems>()); }

  // The open parameters for Manager::set with initial contents.
  template <class Range>
  static Bytes params(const Range& vs) {
    return encode(encode_each(vs));
  }
};

template <class T>
struct TypeName<Set<T>> {
  static std::string get() { return Set<T>::type_signature(); }
};

}  // namespace mpshare
