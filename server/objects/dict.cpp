// Dict: an insertion-ordered map of encoded keys to encoded values.
#include <list>
#include <unordered_map>

#include "../handlers.hpp"
#include "arith.hpp"
#include "factory.hpp"

namespace mpshare::server {

namespace {

class DictObject final : public Object {
 public:
  DictObject(const ObjectContext& cx, const OpenRequest& req, BytesPairs contents)
      : Object(cx, without_params(req)) {
    for (auto& [k, v] : contents) set(std::move(k), std::move(v));
  }

  std::uint64_t size() const override { return entries_.size(); }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point) const override {
    d.state["items"] = static_cast<std::int64_t>(entries_.size());
  }
  bool accepts(const OpenRequest&) const override { return true; }
  void for_each_stored(const std::function<void(std::string_view)>& f) const override {
    for (const auto& [k, v] : entries_) {
      f(k);
      f(v);
    }
  }

  Bytes* find(const Bytes& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  Bytes& at(const Bytes& key) {
    Bytes* v = find(key);
    if (v == nullptr) fail(Errc::key_error, "key not found in dict '" + name() + "'");
    return *v;
  }
  // Inserts or assigns; new keys go last.
  void set(Bytes key, Bytes value) {
    if (Bytes* v = find(key)) {
      *v = std::move(value);
      return;
    }
    entries_.emplace_back(std::move(key), std::move(value));
    auto last = std::prev(entries_.end());
    index_.emplace(std::string_view(last->first), last);
  }
  bool erase(const Bytes& key, Bytes* out = nullptr) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    auto entry = it->second;
    index_.erase(it);
    if (out) *out = std::move(entry->second);
    entries_.erase(entry);
    return true;
  }
  void clear() {
    index_.clear();
    entries_.clear();
  }
  const std::list<std::pair<Bytes, Bytes>>& entries() const { return entries_; }
  // Removes and returns the last inserted entry; KeyError when empty.
  BytesPair pop_last() {
    if (entries_.empty()) fail(Errc::key_error, "popitem(): dict '" + name() + "' is empty");
    index_.erase(entries_.back().first);
    BytesPair out = std::move(entries_.back());
    entries_.pop_back();
    return out;
  }

 private:
  std::list<std::pair<Bytes, Bytes>> entries_;
  std::unordered_map<std::string_view, std::list<std::pair<Bytes, Bytes>>::iterator> index_;
};

DictObject& dict(Call& c) {
  return c.as<DictObject>();
}

}  // namespace

std::unique_ptr<Object> make_dict(const ObjectContext& cx, const OpenRequest& req) {
  return std::make_unique<DictObject>(cx, req, initial_contents<BytesPairs>(req));
}

std::optional<Unit> handle(op::DictSet, Call& c, Bytes key, Bytes value) {
  dict(c).set(std::move(key), std::move(value));
  return Unit{};
}

std::optional<Bytes> handle(op::DictGet, Call& c, Bytes key) {
  return dict(c).at(key);
}

std::optional<std::optional<Bytes>> handle(op::DictFind, Call& c, Bytes key) {
  Bytes* v = dict(c).find(key);
  return v ? std::optional<Bytes>(*v) : std::optional<Bytes>();
}

std::optional<bool> handle(op::DictContains, Call& c, Bytes key) {
  return dict(c).find(key) != nullptr;
}

std::optional<bool> handle(op::DictErase, Call& c, Bytes key) {
  return dict(c).erase(key);
}

std::optional<Bytes> handle(op::DictSetDefault, Call& c, Bytes key, Bytes value) {
  auto& d = dict(c);
  if (Bytes* v = d.find(key)) return *v;
  d.set(std::move(key), value);
  return value;
}

std::optional<Bytes> handle(op::DictPop, Call& c, Bytes key) {
  Bytes out;
  if (!dict(c).erase(key, &out))
    fail(Errc::key_error, "key not found in dict '" + c.object().name() + "'");
  return out;
}

std::optional<Unit> handle(op::DictUpdate, Call& c, BytesPairs items) {
  auto& d = dict(c);
  for (auto& [k, v] : items) d.set(std::move(k), std::move(v));
  return Unit{};
}

std::optional<Bytes> handle(op::DictIncrement, Call& c, Bytes key, Bytes delta) {
  auto& d = dict(c);
  Bytes* current = d.find(key);
  Bytes result = add_encoded(d.value_code(), current, delta);
  if (current)
    *current = result;
  else
    d.set(std::move(key), result);
  return result;
}

std::optional<bool> handle(op::DictCompareExchange, Call& c, Bytes key, Bytes expected,
                           Bytes desired) {
  Bytes* v = dict(c).find(key);
  if (v == nullptr || *v != expected) return false;
  *v = std::move(desired);
  return true;
}

std::optional<std::uint64_t> handle(op::DictSize, Call& c) {
  return dict(c).size();
}

std::optional<BytesList> handle(op::DictKeys, Call& c) {
  BytesList out;
  out.reserve(dict(c).size());
  for (const auto& e : dict(c).entries()) out.push_back(e.first);
  return out;
}

std::optional<BytesList> handle(op::DictValues, Call& c) {
  BytesList out;
  out.reserve(dict(c).size());
  for (const auto& e : dict(c).entries()) out.push_back(e.second);
  return out;
}

std::optional<BytesPairs> handle(op::DictItems, Call& c) {
  return BytesPairs(dict(c).entries().begin(), dict(c).entries().end());
}

std::optional<Unit> handle(op::DictClear, Call& c) {
  dict(c).clear();
  return Unit{};
}

std::optional<BytesPair> handle(op::DictPopItem, Call& c) {
  return dict(c).pop_last();
}

}  // namespace mpshare::server
