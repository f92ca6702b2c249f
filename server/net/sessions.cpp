#include "sessions.hpp"

#include "../introspect.hpp"
#include "../log.hpp"
#include "../registry.hpp"

namespace mpshare::server {

void SessionManager::add(std::shared_ptr<SessionBase> s) {
  sessions_.emplace(s->id(), std::move(s));
}

void SessionManager::closed(SessionId id) {
  if (log_enabled(LogLevel::info)) {
    auto it = sessions_.find(id);
    const std::string held = holdings_of(registry_, id);
    log(LogLevel::info,
        (it != sessions_.end() ? it->second->tag() : "session " + std::to_string(id)) +
            ": disconnected" + (held.empty() ? "" : ", released " + held));
  }
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
