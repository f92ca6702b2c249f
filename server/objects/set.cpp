// Set: an unordered set of encoded values (Python's set; items compare by
// their encoded bytes).
#include <unordered_set>

#include "../handlers.hpp"
#include "factory.hpp"

namespace mpshare::server {

namespace {

class SetObject final : public Object {
 public:
  SetObject(const ObjectContext& cx, const OpenRequest& req, BytesList contents)
      : Object(cx, without_params(req)) {
    for (auto& b : contents) items_.insert(std::move(b));
  }
  std::uint64_t size() const override { return items_.size(); }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point) const override {
    d.state["items"] = static_cast<std::int64_t>(items_.size());
  }
  bool accepts(const OpenRequest&) const override { return true; }
  void for_each_stored(const std::function<void(std::string_view)>& f) const override {
    for (const auto& v : items_) f(v);
  }
  std::unordered_set<Bytes> items_;
};

std::unordered_set<Bytes>& items(Call& c) {
  return c.as<SetObject>().items_;
}

[[noreturn]] void fail_missing(Call& c, const char* what) {
  fail(Errc::key_error, std::string(what) + " '" + c.object().name() + "'");
}

}  // namespace

std::unique_ptr<Object> make_set(const ObjectContext& cx, const OpenRequest& req) {
  return std::make_unique<SetObject>(cx, req, initial_contents<BytesList>(req));
}

std::optional<bool> handle(op::SetAdd, Call& c, Bytes v) {
  return items(c).insert(std::move(v)).second;
}

std::optional<bool> handle(op::SetDiscard, Call& c, Bytes v) {
  return items(c).erase(v) > 0;
}

std::optional<Unit> handle(op::SetRemove, Call& c, Bytes v) {
  if (items(c).erase(v) == 0) fail_missing(c, "item not in set");
  return Unit{};
}

std::optional<bool> handle(op::SetContains, Call& c, Bytes v) {
  return items(c).contains(v);
}

std::optional<std::uint64_t> handle(op::SetSize, Call& c) {
  return items(c).size();
}

std::optional<Bytes> handle(op::SetPop, Call& c) {
  auto& s = items(c);
  if (s.empty()) fail_missing(c, "pop from empty set");
  return std::move(s.extract(s.begin()).value());
}

std::optional<Unit> handle(op::SetClear, Call& c) {
  items(c).clear();
  return Unit{};
}

std::optional<std::uint64_t> handle(op::SetUpdate, Call& c, BytesList vs) {
  std::uint64_t added = 0;
  for (auto& v : vs) added += items(c).insert(std::move(v)).second ? 1 : 0;
  return added;
}

std::optional<BytesList> handle(op::SetItems, Call& c) {
  return BytesList(items(c).begin(), items(c).end());
}

}  // namespace mpshare::server
