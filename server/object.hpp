// Server-side objects and the registry that owns them. Everything here is
// used only on the server's event-loop thread: no locking.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "mpshare/detail/protocol.hpp"

namespace mpshare::server {

using SessionId = std::uint64_t;
using detail::OpenRequest;

// Base of every hosted object. Owned by the Registry; handlers get it by
// reference for the duration of one call.
class Object {
 public:
  Object(const OpenRequest& req)
      : kind_(req.kind), type_(req.type), value_code_(req.value_code), params_(req.params) {}
  virtual ~Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  std::uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  const std::string& type() const { return type_; }
  ValueCode value_code() const { return value_code_; }

  // Items, waiters or bytes, by kind (Manager::objects()).
  virtual std::uint64_t size() const = 0;
  // May `req` (same name) open this object? Default: same params.
  virtual bool accepts(const OpenRequest& req) const { return req.params == params_; }
  // Kind-specific data for the opening proxy (OpenReply::params).
  virtual Bytes open_params() const { return {}; }
  // The session closed: release what it held, drop its parked waits.
  virtual void on_disconnect(SessionId) {}
  // The object is being removed or the server stops: fail every parked wait.
  virtual void on_remove() {}

 private:
  friend class Registry;
  std::uint64_t id_ = 0;
  std::string name_;
  Kind kind_;
  std::string type_;
  ValueCode value_code_;
  Bytes params_;
};

// Makes a new object of req.kind (server/objects/factory.cpp). Throws
// ValueError for bad params.
std::unique_ptr<Object> make_object(const OpenRequest& req);

// Objects by id and by name. Anonymous objects are named "@<id>".
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Create-or-open; throws TypeMismatch when `req` does not match.
  detail::OpenReply open(const OpenRequest& req);
  Object* find(std::uint64_t id) const;
  void remove(const std::string& name);  // KeyError if unknown
  std::vector<ObjectInfo> list() const;
  void on_disconnect(SessionId s);
  void clear();

 private:
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Object>> by_id_;
  std::unordered_map<std::string, std::uint64_t> by_name_;
};

}  // namespace mpshare::server
