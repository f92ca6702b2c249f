// List: a vector of encoded values with Python-style indexing.
#include <algorithm>
#include <vector>

#include "../handlers.hpp"
#include "factory.hpp"

namespace mpshare::server {

namespace {

class ListObject final : public Object {
 public:
  using Object::Object;
  std::uint64_t size() const override { return items_.size(); }
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

}  // namespace

std::unique_ptr<Object> make_list(const ObjectContext& cx, const OpenRequest& req) {
  return std::make_unique<ListObject>(cx, req);
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

}  // namespace mpshare::server
