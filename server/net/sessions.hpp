// Every open session of a server (Asio's connection_manager). Used only on
// the event-loop thread. Owned by the Server; not copyable.
#pragma once

#include <functional>
#include <memory>
#include <unordered_map>

#include "../call.hpp"

namespace mpshare::server {

class SessionManager {
 public:
  // `registry` hears of every session that closes; it must outlive this.
  explicit SessionManager(Registry& registry) : registry_(registry) {}
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  SessionId next_id() { return next_id_++; }
  void add(std::shared_ptr<SessionBase> s);
  // A session closed: the objects release what it held, then it is forgotten.
  void closed(SessionId id);
  // Stops every session (each writes what is queued, then closes) and
  // refuses new ones; `on_empty` runs once none is left, maybe at once.
  void stop_all(std::function<void()> on_empty);
  bool stopping() const { return stopping_; }
  std::size_t size() const { return sessions_.size(); }
  // Sessions accepted since the start.
  std::uint64_t accepted() const { return next_id_ - 1; }
  // Calls f(const SessionBase&) for every open session, in no order.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [id, s] : sessions_) f(*s);
  }

 private:
  Registry& registry_;
  std::unordered_map<SessionId, std::shared_ptr<SessionBase>> sessions_;
  SessionId next_id_ = 1;
  bool stopping_ = false;
  std::function<void()> on_empty_;
};

}  // namespace mpshare::server
