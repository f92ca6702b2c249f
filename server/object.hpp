// The base of every hosted object, and what objects are given when they are
// made. Everything here is used only on the server's event-loop thread: no
// locking.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "mpshare/detail/protocol.hpp"
#include "options.hpp"

namespace asio {
class io_context;
}

namespace mpshare::server {

using SessionId = std::uint64_t;
using detail::OpenRequest;

class Registry;

// Sizes the server refuses to go beyond, whatever a client asks.
struct ObjectLimits {
  std::uint64_t max_shared_bytes = default_max_shared_bytes;  // one Value/Array's contents
  std::uint64_t max_reply_bytes = detail::default_max_frame;  // a reply's payload
};

// What an object may use beyond its own state, given when it is made.
// Owned by the Registry; outlives every object.
struct ObjectContext {
  asio::io_context& io;   // timers of parked waits
  Registry& registry;     // other objects (the lock a Condition is bound to)
  bool stopping = false;  // the whole server is stopping
  ObjectLimits limits;
};

// Base of every hosted object. Owned by the Registry; handlers get it by
// reference for the duration of one call.
class Object {
 public:
  Object(const ObjectContext& context, const OpenRequest& req)
      : context_(context),
        kind_(req.kind),
        type_(req.type),
        value_code_(req.value_code),
        params_(req.params) {}
  virtual ~Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  const ObjectContext& context() const { return context_; }
  std::uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  const std::string& type() const { return type_; }
  ValueCode value_code() const { return value_code_; }

  // Items, waiters or bytes, by kind (Manager::objects()).
  virtual std::uint64_t size() const = 0;
  // May `req` (same name) open this object? Default: same params. May
  // instead throw TypeMismatch naming the parameter that differs.
  virtual bool accepts(const OpenRequest& req) const { return req.params == params_; }
  // Kind-specific data for the opening proxy (OpenReply::params).
  virtual Bytes open_params() const { return {}; }
  // The session closed: release what it held, drop its parked waits.
  virtual void on_disconnect(SessionId) {}
  // The object is being removed or the server stops: fail every parked wait.
  virtual void on_remove() {}
  // Containers: calls f on every encoded key and value they store (not
  // those of parked requests). Proxies found in them hold references to
  // their anonymous objects (Registry).
  virtual void for_each_stored(const std::function<void(std::string_view)>& /*f*/) const {}
  // Introspection: adds the kind's holders, parked waits (waiting since
  // before `now`) and state numbers to `d` (introspect.hpp documents each
  // kind's). The base fields are filled already.
  virtual void describe(ObjectDetail& /*d*/, std::chrono::steady_clock::time_point /*now*/) const {}

 private:
  friend class Registry;
  const ObjectContext& context_;
  std::uint64_t id_ = 0;
  std::string name_;
  Kind kind_;
  std::string type_;
  ValueCode value_code_;
  Bytes params_;
  bool may_store_proxies_ = false;  // a request to it carried a proxy
};

// Makes a new object of req.kind (server/objects/factory.cpp). Throws
// ValueError for bad params.
std::unique_ptr<Object> make_object(const ObjectContext& context, const OpenRequest& req);

}  // namespace mpshare::server
