// The objects of one server, by id and by name. Anonymous objects are named
// "@<id>". Used only on the server's event-loop thread. Not copyable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "object.hpp"

namespace mpshare::server {

class Registry {
 public:
  // `io` runs the objects' timers and must outlive the registry.
  explicit Registry(asio::io_context& io, ObjectLimits limits = {})
      : context_{io, *this, false, limits} {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Create-or-open; throws TypeMismatch when `req` does not match.
  detail::OpenReply open(const OpenRequest& req);
  Object* find(std::uint64_t id) const;
  void remove(const std::string& name);  // KeyError if unknown
  std::vector<ObjectInfo> list() const;
  void on_disconnect(SessionId s);
  // Removes every object; their parked waits fail with ConnectionLost.
  void shutdown();

 private:
  void clear();

  ObjectContext context_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Object>> by_id_;
  std::unordered_map<std::string, std::uint64_t> by_name_;
};

}  // namespace mpshare::server
