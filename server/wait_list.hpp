// Parked calls of one op, oldest first, each with an optional deadline: the
// building block of every blocking operation. Used only on the server's
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

#include "call.hpp"
#include "server.hpp"

namespace mpshare::server {

// Validates a wire timeout (detail::wait_forever, 0 or positive
// nanoseconds); ValueError otherwise.
inline std::int64_t checked_timeout(std::int64_t ns) {
  if (ns < detail::wait_forever)
    fail(Errc::value_error, "timeout must not be negative (got " + std::to_string(ns) + " ns)");
  return ns;
}

struct NoState {};

template <class Op, class State = NoState>
class WaitList {
 public:
  using Result = typename Op::Result;
  struct Waiter {
    Pending<Op> pending;
    State state;
    std::unique_ptr<asio::steady_timer> timer;  // none when waiting forever
  };

  // `on_timeout` gives the reply of a waiter whose deadline passed.
  explicit WaitList(std::function<Result(State&)> on_timeout)
      : on_timeout_(std::move(on_timeout)) {}
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  bool empty() const { return waiters_.empty(); }
  std::size_t size() const { return waiters_.size(); }
  // The oldest waiter; the list must not be empty.
  Waiter& front() { return waiters_.begin()->second; }

  // Parks `call` behind every earlier waiter. `timeout_ns` is wait_forever
  // or positive: at the deadline the waiter is answered with on_timeout.
  void park(Call& call, std::int64_t timeout_ns, State state) {
    server_ = &call.server();
    const std::uint64_t id = next_id_++;
    std::unique_ptr<asio::steady_timer> timer;
    if (timeout_ns != detail::wait_forever) {
      timer = std::make_unique<asio::steady_timer>(call.server().io(),
                                                   std::chrono::nanoseconds(timeout_ns));
      timer->async_wait([this, id, alive = std::weak_ptr<char>(alive_)](asio::error_code ec) {
        if (ec || alive.expired()) return;
        auto it = waiters_.find(id);
        if (it == waiters_.end()) return;  // answered just before its deadline
        Result r = on_timeout_(it->second.state);
        auto node = waiters_.extract(it);
        node.mapped().pending.complete(r);
      });
    }
    waiters_.emplace(id, Waiter{call.park<Op>(), std::move(state), std::move(timer)});
  }

  // Answers and removes the oldest waiter.
  void complete_front(const Result& r) {
    auto node = waiters_.extract(waiters_.begin());
    node.mapped().pending.complete(r);
  }
  void complete_all(const Result& r) {
    auto all = std::move(waiters_);
    waiters_.clear();
    for (auto& [id, w] : all) w.pending.complete(r);
  }
  // Forgets the waits of a closed session (nothing is answered).
  void drop_session(SessionId s) {
    std::erase_if(waiters_, [s](const auto& kv) { return kv.second.pending.session_id() == s; });
  }
  // For Object::on_remove: fails every waiter with NoSuchObject, or with
  // ConnectionLost when the whole server is stopping.
  void fail_removed(const Object& o) {
    auto all = std::move(waiters_);
    waiters_.clear();
    const bool stopping = server_ != nullptr && server_->stopping();
    for (auto& [id, w] : all) {
      if (stopping)
        w.pending.fail(Errc::connection_lost, "the server is shutting down");
      else
        w.pending.fail(Errc::no_such_object, "'" + o.name() + "' was removed");
    }
  }

 private:
  std::map<std::uint64_t, Waiter> waiters_;  // by arrival: oldest first
  std::uint64_t next_id_ = 0;
  std::function<Result(State&)> on_timeout_;
  Server* server_ = nullptr;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace mpshare::server
