// Lock ownership shared by Lock, RLock and Condition (whose lock is its own
// RLock or a bound Lock/RLock). Used only on the server's event-loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "../handlers.hpp"
#include "parked.hpp"

namespace mpshare::server {

// A lock held by one session at a time: the recursion count (RLock), FIFO
// waiters, the current fencing token, and whether the last holder died.
// `object` names the lock in error messages and must outlive it.
class LockState {
 public:
  LockState(const Object& object, bool recursive);
  LockState(const LockState&) = delete;
  LockState& operator=(const LockState&) = delete;

  bool locked() const { return owner_ != 0; }
  SessionId owner() const { return owner_; }
  // The holder, or nullopt when free.
  std::optional<LockOwner> owner_info() const {
    if (owner_ == 0) return std::nullopt;
    return LockOwner{owner_, owner_pid_, count_};
  }
  std::size_t n_waiting() const { return waiters_.size(); }

  // LockAcquire: the Grant, nullopt when not had within the timeout, or
  // parks the call (outer nullopt). Re-acquiring a Lock one holds is a
  // StateError (it could never succeed), or nullopt when not waiting.
  std::optional<std::optional<Grant>> acquire(Call& c, std::int64_t timeout_ns);
  // StateError unless the caller's session holds the lock.
  void release(Call& c);
  // Releases every level `s` holds (it must hold the lock); returns them.
  std::uint32_t release_all(SessionId s);
  // Parks a Condition waiter until it holds the lock again at `count`
  // levels, then answers it with `notified`.
  void reacquire(Pending<op::CondWait> p, std::uint32_t count, bool notified);

  void on_disconnect(SessionId s);
  void on_remove();
  // Introspection: the holder, the waiters, locked / token / owner_died.
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const;

 private:
  struct Waiter {
    SessionId session;
    std::int64_t pid;
    std::uint32_t count;
    bool notified;
    std::variant<Pending<op::LockAcquire>, Pending<op::CondWait>> pending;
  };
  Grant take(SessionId s, std::int64_t pid, std::uint32_t count);
  void grant_next();

  const Object& object_;
  bool recursive_;
  SessionId owner_ = 0;
  std::int64_t owner_pid_ = 0;
  std::uint32_t count_ = 0;
  std::uint64_t token_ = 0;
  bool owner_died_ = false;
  Parked<Waiter> waiters_;
};

// Objects the Lock ops apply to: Lock, RLock, Condition.
class LockHolder : public Object {
 public:
  using Object::Object;
  // The lock the Lock ops act on, or nullptr when a Condition's bound lock
  // was removed.
  virtual LockState* find_lock() = 0;
  // As find_lock, but NoSuchObject instead of nullptr.
  LockState& lock_state();
};

}  // namespace mpshare::server
