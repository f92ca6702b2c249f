// Parked calls of one op, oldest first, each with an optional deadline and
// a state of the owner's choosing; a call whose deadline passes is answered
// with the owner's on_timeout result. Used only on the server's event-loop
// thread. Owned by its object; not copyable or movable.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "objects/parked.hpp"

namespace mpshare::server {

struct NoState {};

template <class Op, class State = NoState>
class WaitList {
 public:
  using Result = typename Op::Result;
  struct Waiter {
    Pending<Op> pending;
    State state;
  };

  // `on_timeout` gives the reply of a waiter whose deadline passed.
  explicit WaitList(std::function<Result(State&)> on_timeout)
      : parked_([f = std::move(on_timeout)](Waiter w) { w.pending.complete(f(w.state)); }) {}

  bool empty() const { return parked_.empty(); }
  std::size_t size() const { return parked_.size(); }
  // The oldest waiter; the list must not be empty.
  Waiter& front() { return parked_.front(); }

  // Parks `call` behind every earlier waiter. `timeout_ns` is wait_forever
  // or positive: at the deadline the waiter is answered with on_timeout.
  void park(Call& call, std::int64_t timeout_ns, State state) {
    parked_.push(call.server(), Waiter{call.park<Op>(), std::move(state)}, timeout_ns);
  }
  // Answers and removes the oldest waiter.
  void complete_front(const Result& r) { parked_.pop_front().pending.complete(r); }
  void complete_all(const Result& r) {
    for (auto& w : parked_.take_all()) w.pending.complete(r);
  }
  // Forgets the waits of a closed session (nothing is answered).
  void drop_session(SessionId s) { parked_.drop_session(s); }
  // For Object::on_remove: fails every waiter with NoSuchObject, or with
  // ConnectionLost when the whole server is stopping.
  void fail_removed(const Object& o) { parked_.fail_all_removed(o); }

 private:
  Parked<Waiter> parked_;
};

}  // namespace mpshare::server
