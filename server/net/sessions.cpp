#include "sessions.hpp"

#include "../registry.hpp"

namespace mpshare::server {

void SessionManager::add(std::shared_ptr<SessionBase> s) {
  sessions_.emplace(s->id(), std::move(s));
}

void SessionManager::closed(SessionId id) {
  registry_.on_disconnect(id);
  sessions_.erase(id);
  if (stopping_ && sessions_.empty() && on_empty_) std::exchange(on_empty_, nullptr)();
}

void SessionManager::stop_all(std::function<void()> on_empty) {
  stopping_ = true;
  on_empty_ = std::move(on_empty);
  auto sessions = sessions_;
  for (auto& [id, s] : sessions) s->stop();
  if (sessions_.empty() && on_empty_) std::exchange(on_empty_, nullptr)();
}

}  // namespace mpshare::server
