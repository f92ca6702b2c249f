#include "registry.hpp"

#include <algorithm>

#include "call.hpp"

namespace mpshare::server {

using namespace mpshare::detail;

Registry::~Registry() {
  clear();
}

OpenReply Registry::open(const OpenRequest& req) {
  if (!req.name.empty()) {
    if (req.name.front() == '@')
      fail(Errc::value_error, "names starting with '@' are reserved for anonymous objects");
    auto it = by_name_.find(req.name);
    if (it != by_name_.end()) {
      Object& o = *by_id_.at(it->second);
      if (o.kind() != req.kind || o.type() != req.type)
        fail(Errc::type_mismatch, "'" + req.name + "' is a " + std::string(kind_name(o.kind())) +
                                      " of " + o.type() + ", not a " +
                                      std::string(kind_name(req.kind)) + " of " + req.type);
      if (!o.accepts(req))
        fail(Errc::type_mismatch, "'" + req.name + "' exists with other parameters");
      return OpenReply{o.id(), false, o.open_params()};
    }
  }
  std::unique_ptr<Object> obj = make_object(context_, req);
  obj->id_ = next_id_++;
  obj->name_ = req.name.empty() ? "@" + std::to_string(obj->id_) : req.name;
  Object& o = *obj;
  by_name_.emplace(o.name_, o.id_);
  by_id_.emplace(o.id_, std::move(obj));
  return OpenReply{o.id(), true, o.open_params()};
}

Object* Registry::find(std::uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

void Registry::remove(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) fail(Errc::key_error, "no object named '" + name + "'");
  auto node = by_id_.extract(it->second);
  by_name_.erase(it);
  node.mapped()->on_remove();
}

std::vector<ObjectInfo> Registry::list() const {
  std::vector<ObjectInfo> out;
  out.reserve(by_id_.size());
  for (const auto& [id, o] : by_id_) out.push_back({o->name(), o->kind(), o->type(), o->size()});
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

void Registry::on_disconnect(SessionId s) {
  for (auto& [id, o] : by_id_) o->on_disconnect(s);
}

void Registry::shutdown() {
  context_.stopping = true;
  clear();
}

void Registry::clear() {
  auto objects = std::move(by_id_);
  by_id_.clear();
  by_name_.clear();
  for (auto& [id, o] : objects) o->on_remove();
}

}  // namespace mpshare::server
