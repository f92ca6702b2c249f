// List<T>: a shared sequence held by the server, with Python-style indices
// (negative counts from the end). Thread-safe; every method is one atomic
// server operation.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

#include "mpshare/detail/proxy.hpp"

namespace mpshare {

template <class T>
class List : public detail::ProxyBase {
 public:
  using value_type = T;

  List() = default;
  List(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name)
      : ProxyBase(std::move(core), id, std::move(name)) {}

  static std::string type_signature() { return "list<" + type_name<T>() + ">"; }

  void append(const T& v) { call<detail::op::ListAppend>(encode(v)); }
  void push_back(const T& v) { append(v); }
  void extend(std::initializer_list<T> vs) { extend_range(vs); }
  template <class Range>
  void extend_range(const Range& vs) {
    call<detail::op::ListExtend>(encode_each(vs));
  }
  // Inserts before index i (clamped like Python's list.insert).
  void insert(std::int64_t i, const T& v) { call<detail::op::ListInsert>(i, encode(v)); }
  // IndexError when out of range.
  T at(std::int64_t i) const { return decode_value<T>(call<detail::op::ListGet>(i)); }
  T operator[](std::int64_t i) const { return at(i); }
  void set(std::int64_t i, const T& v) { call<detail::op::ListSet>(i, encode(v)); }
  // Removes and returns item i (default: the last); IndexError when empty.
  T pop(std::int64_t i = -1) { return decode_value<T>(call<detail::op::ListPop>(i)); }
  // Removes the first equal item; ValueError when none.
  void remove(const T& v) { call<detail::op::ListRemove>(encode(v)); }
  // Position of the first equal item in [start, stop); ValueError when none.
  std::size_t index(const T& v, std::int64_t start = 0,
                    std::int64_t stop = std::numeric_limits<std::int64_t>::max()) const {
    return call<detail::op::ListIndex>(encode(v), start, stop);
  }
  std::size_t count(const T& v) const { return call<detail::op::ListCount>(encode(v)); }
  std::size_t size() const { return call<detail::op::ListSize>(); }
  bool empty() const { return size() == 0; }
  // Items [start, stop) with Python's slice bounds.
  std::vector<T> slice(std::int64_t start, std::int64_t stop) const {
    return decode_all<T>(call<detail::op::ListSlice>(start, stop));
  }
  std::vector<T> to_vector() const { return slice(0, std::numeric_limits<std::int64_t>::max()); }
  void reverse() { call<detail::op::ListReverse>(); }
  void clear() { call<detail::op::ListClear>(); }

  // Sorts on the server, stably, by value (ascending, or descending with
  // `reverse`; equal items keep their order either way). Offered only for
  // element types whose encoding the server decodes: arithmetic types,
  // bool and std::string (bytewise order). Floating-point NaNs sort last.
  void sort(bool reverse = false) requires(value_code<T>() != ValueCode::opaque) {
    call<detail::op::ListSort>(reverse);
  }
  // Python's l[start:stop] = values: replaces the items in [start, stop)
  // (Python's slice bounds) with `values`, which may differ in length.
  template <class Range>
  void set_slice(std::int64_t start, std::int64_t stop, const Range& values) {
    call<detail::op::ListSetSlice>(start, stop, encode_each(values));
  }
  void set_slice(std::int64_t start, std::int64_t stop, std::initializer_list<T> values) {
    call<detail::op::ListSetSlice>(start, stop, encode_each(values));
  }
  // Python's del l[start:stop].
  void erase(std::int64_t start, std::int64_t stop) {
    call<detail::op::ListEraseSlice>(start, stop);
  }
  // Python's l *= n: the items repeated n times; n <= 0 empties the list.
  // ValueError if the result would exceed the server's limit (2^30 bytes
  // of items).
  void repeat(std::int64_t n) { call<detail::op::ListRepeat>(n); }

  // The open parameters for Manager::list with initial contents.
  template <class Range>
  static Bytes params(const Range& values) {
    return encode(encode_each(values));
  }
};

template <class T>
struct TypeName<List<T>> {
  static std::string get() { return List<T>::type_signature(); }
};

}  // namespace mpshare
