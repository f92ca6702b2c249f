// Parked waiters, oldest first, each with an optional deadline: the building
// block of every blocking operation. An item is any movable value (it may
// hold Pendings of several ops); an item whose deadline passes is removed
// first, then handed to the owner's callback, which may answer it, move it
// to another list or change the object freely. WaitList is the common case
// of one op per list. Used only on the server's
// event-loop thread. Owned by its object; not copyable or movable (its
// timers refer to it).
#pragma once

#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../handlers.hpp"
#include "../server.hpp"

namespace mpshare::server {

// Validates a wire timeout (detail::wait_forever, 0 or positive
// nanoseconds); ValueError otherwise.
inline std::int64_t checked_timeout(std::int64_t ns) {
  if (ns < detail::wait_forever)
    fail(Errc::value_error, "timeout must not be negative (got " + std::to_string(ns) + " ns)");
  return ns;
}

template <class T>
class Parked {
 public:
  explicit Parked(std::function<void(T)> on_timeout = {}) : on_timeout_(std::move(on_timeout)) {}
  Parked(const Parked&) = delete;
  Parked& operator=(const Parked&) = delete;

  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  T& front() { return items_.begin()->second.item; }
  T pop_front() {
    auto node = items_.extract(items_.begin());
    return std::move(node.mapped().item);
  }

  // Parks `item` behind every earlier one. `timeout_ns` is wait_forever or
  // positive; at the deadline the item is removed and given to on_timeout.
  void push(Server& server, T item, std::int64_t timeout_ns) {
    server_ = &server;
    const std::uint64_t id = next_id_++;
    std::unique_ptr<asio::steady_timer> timer;
    if (timeout_ns != detail::wait_forever) {
      timer =
          std::make_unique<asio::steady_timer>(server.io(), std::chrono::nanoseconds(timeout_ns));
      timer->async_wait([this, id, alive = std::weak_ptr<char>(alive_)](asio::error_code ec) {
        if (ec || alive.expired()) return;
        auto it = items_.find(id);
        if (it == items_.end()) return;  // answered just before its deadline
        auto node = items_.extract(it);
        on_timeout_(std::move(node.mapped().item));
      });
    }
    items_.emplace(id, Node{std::move(item), std::move(timer)});
  }

  // Removes and returns, oldest first, every item for which pred is true.
  template <class Pred>
  std::vector<T> take_if(Pred pred) {
    std::vector<T> out;
    for (auto it = items_.begin(); it != items_.end();) {
      if (pred(it->second.item)) {
        out.push_back(std::move(it->second.item));
        it = items_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }
  std::vector<T> take_all() {
    return take_if([](const T&) { return true; });
  }

  // For items that are a Pending or hold one as `pending`: forgets those of
  // a closed session (nothing is answered); returns how many.
  std::size_t drop_session(SessionId s) {
    return take_if([s](T& t) { return pending_of(t).session_id() == s; }).size();
  }
  // For Object::on_remove: fails every item's Pending (see fail_removed).
  void fail_all_removed(const Object& o) {
    for (T& t : take_all()) fail_removed(pending_of(t), o);
  }

  // The error for waiters of a removed object: ConnectionLost when the
  // whole server is stopping, else NoSuchObject.
  template <class Op>
  void fail_removed(Pending<Op>& p, const Object& o) const {
    if (server_ != nullptr && server_->stopping())
      p.fail(Errc::connection_lost, "the server is shutting down");
    else
      p.fail(Errc::no_such_object, "'" + o.name() + "' was removed");
  }

 private:
  static auto& pending_of(T& t) {
    if constexpr (requires { t.pending; })
      return t.pending;
    else
      return t;
  }

  struct Node {
    T item;
    std::unique_ptr<asio::steady_timer> timer;  // none when waiting forever
  };
  std::map<std::uint64_t, Node> items_;  // by arrival: oldest first
  std::uint64_t next_id_ = 0;
  std::function<void(T)> on_timeout_;
  Server* server_ = nullptr;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace mpshare::server
