// The one waiter module: every blocking operation parks its requests here.
//
// How to add a blocking op
//  1. In ops.def, give it an std::int64_t timeout in nanoseconds
//     (detail::wait_forever, 0 or positive) and a Result that can say "not
//     now" (bool, std::optional, a count).
//  2. In the object, keep a WaitList<Op, State> (one op per list), or a
//     Parked<Item> whose Item is a Pending or holds one as `pending` (several
//     ops in one FIFO). Construct it with the object and the answer for a
//     waiter whose deadline passes.
//  3. In the handler: checked_timeout(t); answer at once when the object
//     allows it; with t == 0 return the "not now" result; otherwise park
//     (WaitList::park or Parked::push) and return std::nullopt.
//  4. Wherever the object's state changes so that waiters may go on, answer
//     them oldest first (complete_front, pop_front), skipping those whose
//     session is closed (session_closed()).
//  5. on_disconnect: drop_session(s), then release what the session held.
//     on_remove: fail_all_removed().
// Never block the event loop: a wait that depends on something outside the
// server (the robust mutex of a Value/Array) polls on a timer (SharedLock).
//
// Everything here is used only on the server's event-loop thread. Lists are
// owned by their object; not copyable or movable (their timers refer to
// them).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "../handlers.hpp"

namespace mpshare::server {

// Validates a wire timeout (detail::wait_forever, 0 or positive
// nanoseconds); ValueError otherwise.
inline std::int64_t checked_timeout(std::int64_t ns) {
  if (ns < detail::wait_forever)
    fail(Errc::value_error, "timeout must not be negative (got " + std::to_string(ns) + " ns)");
  return ns;
}

// Parked items, oldest first, each with an optional deadline. An item is
// any movable value that is a Pending or holds one (or a variant of them)
// as `pending`; an item whose deadline passes is removed first, then handed
// to on_timeout, which may answer it, move it to another list or change the
// object freely.
template <class T>
class Parked {
 public:
  // `owner` names the waits in errors and runs their timers; it must
  // outlive the list.
  explicit Parked(const Object& owner, std::function<void(T)> on_timeout = {})
      : owner_(owner), on_timeout_(std::move(on_timeout)) {}
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
  void push(T item, std::int64_t timeout_ns) {
    const std::uint64_t id = next_id_++;
    std::unique_ptr<asio::steady_timer> timer;
    if (timeout_ns != detail::wait_forever) {
      timer = std::make_unique<asio::steady_timer>(owner_.context().io,
                                                   std::chrono::nanoseconds(timeout_ns));
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

  // Introspection: appends every parked call, oldest first, to `out`.
  void describe(std::vector<Waiting>& out, std::chrono::steady_clock::time_point now) const {
    for (const auto& [id, node] : items_) {
      const PendingCall& p = call_of(const_cast<T&>(node.item));
      out.push_back(
          Waiting{p.session_id(), p.op(), std::chrono::duration<double>(now - p.since()).count()});
    }
  }

  // Forgets the waits of a closed session (nothing is answered); returns
  // how many.
  std::size_t drop_session(SessionId s) {
    return take_if([s](T& t) { return call_of(t).session_id() == s; }).size();
  }
  // For Object::on_remove: fails every wait (see fail_removed).
  void fail_all_removed() {
    for (T& t : take_all()) fail_removed(call_of(t));
  }
  // The error for a wait on a removed object: ConnectionLost when the whole
  // server is stopping, else NoSuchObject.
  void fail_removed(PendingCall& p) const {
    if (owner_.context().stopping)
      p.fail(Errc::connection_lost, "the server is shutting down");
    else
      p.fail(Errc::no_such_object, "'" + owner_.name() + "' was removed");
  }

 private:
  static PendingCall& call_of(T& t) {
    if constexpr (std::is_base_of_v<PendingCall, T>) {
      return t;
    } else if constexpr (requires { std::visit([](auto&) {}, t.pending); }) {
      return std::visit([](auto& p) -> PendingCall& { return p; }, t.pending);
    } else {
      return t.pending;
    }
  }

  struct Node {
    T item;
    std::unique_ptr<asio::steady_timer> timer;  // none when waiting forever
  };
  const Object& owner_;
  std::map<std::uint64_t, Node> items_;  // by arrival: oldest first
  std::uint64_t next_id_ = 0;
  std::function<void(T)> on_timeout_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

struct NoState {};

// The common case: parked calls of one op, each with a state of the
// owner's choosing, answered with on_timeout's result at their deadline.
template <class Op, class State = NoState>
class WaitList {
 public:
  using Result = typename Op::Result;
  struct Waiter {
    Pending<Op> pending;
    State state;
  };

  WaitList(const Object& owner, std::function<Result(State&)> on_timeout)
      : parked_(owner, [f = std::move(on_timeout)](Waiter w) { w.pending.complete(f(w.state)); }) {}

  bool empty() const { return parked_.empty(); }
  std::size_t size() const { return parked_.size(); }
  // The oldest waiter; the list must not be empty.
  Waiter& front() { return parked_.front(); }

  // Parks `call` behind every earlier waiter (see Parked::push).
  void park(Call& call, std::int64_t timeout_ns, State state) {
    parked_.push(Waiter{call.park<Op>(), std::move(state)}, timeout_ns);
  }
  // Answers and removes the oldest waiter.
  void complete_front(const Result& r) { parked_.pop_front().pending.complete(r); }
  void complete_all(const Result& r) {
    for (auto& w : parked_.take_all()) w.pending.complete(r);
  }
  void fail_all(Errc code, const std::string& message) {
    for (auto& w : parked_.take_all()) w.pending.fail(code, message);
  }
  void drop_session(SessionId s) { parked_.drop_session(s); }
  void fail_all_removed() { parked_.fail_all_removed(); }
  void describe(std::vector<Waiting>& out, std::chrono::steady_clock::time_point now) const {
    parked_.describe(out, now);
  }

 private:
  Parked<Waiter> parked_;
};

}  // namespace mpshare::server
