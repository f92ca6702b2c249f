// List: a vector of encoded values with Python-style indexing.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../handlers.hpp"
#include "arith.hpp"
#include "factory.hpp"

namespace mpshare::server {

namespace {

// The most bytes of items ListRepeat may produce.
constexpr std::uint64_t max_repeat_bytes = std::uint64_t(1) << 30;

class ListObject final : public Object {
 public:
  ListObject(const ObjectContext& cx, const OpenRequest& req, BytesList contents)
      : Object(cx, without_params(req)), items_(std::move(contents)) {}
  std::uint64_t size() const override { return items_.size(); }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point) const override {
    d.state["items"] = static_cast<std::int64_t>(items_.size());
  }
  bool accepts(const OpenRequest&) const override { return true; }
  void for_each_stored(const std::function<void(std::string_view)>& f) const override {
    for (const auto& v : items_) f(v);
  }
  std::vector<Bytes> items_;
};

std::vector<Bytes>& items(Call& c) {
  return c.as<ListObject>().items_;
}

// Python's index normalization: negative counts from the end. Fails with
// IndexError outside [0, size).
std::size_t position(Call& c, std::int64_t i) {
  auto n = static_cast<std::int64_t>(items(c).size());
  std::int64_t p = i < 0 ? i + n : i;
  if (p < 0 || p >= n)
    fail(Errc::index_error, "list index " + std::to_string(i) + " out of range for '" +
                                c.object().name() + "' of size " + std::to_string(n));
  return static_cast<std::size_t>(p);
}

// Python's slice bound clamping to [0, size].
std::size_t clamp_bound(std::int64_t i, std::size_t size) {
  auto n = static_cast<std::int64_t>(size);
  if (i < 0) i += n;
  return static_cast<std::size_t>(std::clamp<std::int64_t>(i, 0, n));
}

// The items of Python's slice [start:stop] as iterators (empty when
// stop <= start, placed at start).
std::pair<std::vector<Bytes>::iterator, std::vector<Bytes>::iterator> slice_of(
    std::vector<Bytes>& it, std::int64_t start, std::int64_t stop) {
  auto b = clamp_bound(start, it.size());
  auto e = std::max(b, clamp_bound(stop, it.size()));
  return {it.begin() + static_cast<std::ptrdiff_t>(b), it.begin() + static_cast<std::ptrdiff_t>(e)};
}

// A strict weak order on T: floating-point NaNs after every number.
template <class T>
bool value_less(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

// Sorts `items`, each the encoding of a T, stably by decoded value. Every
// item is decoded first, so an undecodable one leaves the list unchanged.
template <class T>
void sort_as(std::vector<Bytes>& items, bool reverse) {
  std::vector<T> keys;
  keys.reserve(items.size());
  for (const auto& b : items) keys.push_back(decode<T>(b));
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return reverse ? value_less(keys[b], keys[a]) : value_less(keys[a], keys[b]);
  });
  std::vector<Bytes> sorted;
  sorted.reserve(items.size());
  for (std::size_t i : order) sorted.push_back(std::move(items[i]));
  items.swap(sorted);
}

}  // namespace

std::unique_ptr<Object> make_list(const ObjectContext& cx, const OpenRequest& req) {
  return std::make_unique<ListObject>(cx, req, initial_contents<BytesList>(req));
}

std::optional<Unit> handle(op::ListAppend, Call& c, Bytes v) {
  items(c).push_back(std::move(v));
  return Unit{};
}

std::optional<Unit> handle(op::ListExtend, Call& c, BytesList vs) {
  auto& it = items(c);
  it.insert(it.end(), std::make_move_iterator(vs.begin()), std::make_move_iterator(vs.end()));
  return Unit{};
}

std::optional<Unit> handle(op::ListInsert, Call& c, std::int64_t i, Bytes v) {
  auto& it = items(c);
  it.insert(it.begin() + static_cast<std::ptrdiff_t>(clamp_bound(i, it.size())), std::move(v));
  return Unit{};
}

std::optional<Bytes> handle(op::ListGet, Call& c, std::int64_t i) {
  return items(c)[position(c, i)];
}

std::optional<Unit> handle(op::ListSet, Call& c, std::int64_t i, Bytes v) {
  items(c)[position(c, i)] = std::move(v);
  return Unit{};
}

std::optional<Bytes> handle(op::ListPop, Call& c, std::int64_t i) {
  if (items(c).empty()) fail(Errc::index_error, "pop from empty list '" + c.object().name() + "'");
  auto p = position(c, i);
  Bytes out = std::move(items(c)[p]);
  items(c).erase(items(c).begin() + static_cast<std::ptrdiff_t>(p));
  return out;
}

std::optional<Unit> handle(op::ListRemove, Call& c, Bytes v) {
  auto& it = items(c);
  auto found = std::find(it.begin(), it.end(), v);
  if (found == it.end()) fail(Errc::value_error, "value not in list '" + c.object().name() + "'");
  it.erase(found);
  return Unit{};
}

std::optional<std::uint64_t> handle(op::ListIndex, Call& c, Bytes v, std::int64_t start,
                                    std::int64_t stop) {
  auto& it = items(c);
  auto b = it.begin() + static_cast<std::ptrdiff_t>(clamp_bound(start, it.size()));
  auto e = it.begin() + static_cast<std::ptrdiff_t>(clamp_bound(stop, it.size()));
  if (b < e) {
    auto found = std::find(b, e, v);
    if (found != e) return static_cast<std::uint64_t>(found - it.begin());
  }
  fail(Errc::value_error, "value not in list '" + c.object().name() + "'");
}

std::optional<std::uint64_t> handle(op::ListCount, Call& c, Bytes v) {
  return static_cast<std::uint64_t>(std::count(items(c).begin(), items(c).end(), v));
}

std::optional<std::uint64_t> handle(op::ListSize, Call& c) {
  return items(c).size();
}

std::optional<BytesList> handle(op::ListSlice, Call& c, std::int64_t start, std::int64_t stop) {
  auto& it = items(c);
  auto b = clamp_bound(start, it.size());
  auto e = clamp_bound(stop, it.size());
  if (b >= e) return BytesList{};
  return BytesList(it.begin() + static_cast<std::ptrdiff_t>(b),
                   it.begin() + static_cast<std::ptrdiff_t>(e));
}

std::optional<Unit> handle(op::ListReverse, Call& c) {
  std::reverse(items(c).begin(), items(c).end());
  return Unit{};
}

std::optional<Unit> handle(op::ListClear, Call& c) {
  items(c).clear();
  return Unit{};
}

std::optional<Unit> handle(op::ListSort, Call& c, bool reverse) {
  auto& it = items(c);
  switch (c.object().value_code()) {
    case ValueCode::boolean:
      sort_as<bool>(it, reverse);
      break;
    case ValueCode::string:
      sort_as<std::string>(it, reverse);
      break;
    default:
      with_arithmetic_type(c.object().value_code(), "sort",
                           [&](auto t) { sort_as<decltype(t)>(it, reverse); });
  }
  return Unit{};
}

std::optional<Unit> handle(op::ListSetSlice, Call& c, std::int64_t start, std::int64_t stop,
                           BytesList values) {
  auto& it = items(c);
  auto [b, e] = slice_of(it, start, stop);
  // Assign over the overlap, then erase or insert the difference.
  const auto common = std::min<std::size_t>(static_cast<std::size_t>(e - b), values.size());
  b = std::move(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(common), b);
  if (b != e)
    it.erase(b, e);
  else
    it.insert(b, std::make_move_iterator(values.begin() + static_cast<std::ptrdiff_t>(common)),
              std::make_move_iterator(values.end()));
  return Unit{};
}

std::optional<Unit> handle(op::ListEraseSlice, Call& c, std::int64_t start, std::int64_t stop) {
  auto [b, e] = slice_of(items(c), start, stop);
  items(c).erase(b, e);
  return Unit{};
}

std::optional<Unit> handle(op::ListRepeat, Call& c, std::int64_t n) {
  auto& it = items(c);
  if (n <= 0 || it.empty()) {
    it.clear();
    return Unit{};
  }
  std::uint64_t bytes = 0, total = 0;
  for (const auto& b : it) bytes += b.size() + sizeof(Bytes);
  if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(n), &total) ||
      total > max_repeat_bytes)
    fail(Errc::value_error, "repeat(" + std::to_string(n) + ") of '" + c.object().name() +
                                "' would exceed " + std::to_string(max_repeat_bytes) + " bytes");
  const std::size_t size = it.size();
  it.reserve(size * static_cast<std::size_t>(n));
  for (std::int64_t k = 1; k < n; ++k)
    for (std::size_t i = 0; i < size; ++i) it.push_back(it[i]);
  return Unit{};
}

}  // namespace mpshare::server
