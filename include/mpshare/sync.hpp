// Synchronization objects held by the server: Lock, RLock, Condition,
// Semaphore, BoundedSemaphore, Event, Barrier. Every wait is parked on the
// server (no server thread blocks), served oldest first, and ends with
// ConnectionLost when the connection or the server dies.
//
// Ownership: a Lock/RLock (and a Condition's lock) is owned by the calling
// thread's connection. When a connection closes, even by kill -9, the
// server releases its locks (the next acquirer's Grant says
// previous_owner_died), breaks any Barrier it waited at and drops its
// waits. Python's manager keeps a dead owner's lock held forever, so every
// other process waiting for it hangs; a lock has exactly one owner, so
// releasing it for the dead one is always right, and the flag tells the
// next holder that the protected state may be half-updated.
//
// Semaphore permits are counts, as in Python: any process may release one,
// and a permit taken by a process that exits stays taken until someone
// releases it. A semaphore created with SemaphoreOptions{.session_aware =
// true} instead ties each permit to the connection that took it (as
// Hazelcast's session-aware ISemaphore): only a holder may release, and
// the permits a connection holds go back when it closes.
//
// Thread safety: proxies are cheap copyable values usable from any thread;
// each thread acts through its own connection, so a lock acquired in one
// thread is not held by another thread of the same process.
// Timeouts are std::chrono durations; negative ones are a ValueError.
// Timed-out waits are return values (bool, std::optional), not exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>

#include "mpshare/detail/proxy.hpp"
#include "mpshare/detail/wait.hpp"

namespace mpshare {

// How a Semaphore or BoundedSemaphore counts (Manager::semaphore).
struct SemaphoreOptions {
  // Permits belong to the connection that acquired them: release() by a
  // connection holding fewer than n is a StateError, and a closing
  // connection's permits return to the semaphore.
  bool session_aware = false;
};

namespace detail {

// What Lock, RLock and Condition share: the std Lockable and TimedLockable
// requirements on top of acquire/release.
class LockBase : public ProxyBase {
 public:
  using ProxyBase::ProxyBase;

  // Waits until held. A Lock already held by this thread's connection is a
  // StateError (it would wait forever); an RLock counts one more level.
  Grant acquire() { return *call_waiting<op::LockAcquire>(wait_forever); }
  std::optional<Grant> try_acquire() { return call<op::LockAcquire>(std::int64_t{0}); }
  template <class Rep, class Period>
  std::optional<Grant> try_acquire_for(std::chrono::duration<Rep, Period> d) {
    const std::int64_t ns = timeout_ns(d);
    return call_waiting<op::LockAcquire>(ns);
  }
  // StateError unless this thread's connection holds it.
  void release() { call<op::LockRelease>(); }
  bool locked() const { return call<op::LockLocked>(); }
  // Who holds it (connection, process id, levels), or nullopt when free.
  // The pid is known for clients on the server's Unix socket, 0 for TCP.
  std::optional<LockOwner> owner() const { return call<op::LockOwnerOf>(); }

  // BasicLockable, Lockable, TimedLockable.
  void lock() { acquire(); }
  // Never throws, so std::lock_guard and std::unique_lock may release from
  // their destructors, also while an exception unwinds. When the release
  // cannot reach the server, this thread's connection is closed, and the
  // server releases every lock of a closed connection itself. Use release()
  // to learn of errors (such as releasing a lock this thread does not hold).
  void unlock() noexcept {
    try {
      release();
    } catch (...) {
    }
  }
  bool try_lock() { return try_acquire().has_value(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> d) {
    return try_acquire_for(d).has_value();
  }
  template <class Clock, class Duration>
  bool try_lock_until(std::chrono::time_point<Clock, Duration> tp) {
    auto left = tp - Clock::now();
    return try_lock_for(left < decltype(left)::zero() ? decltype(left)::zero() : left);
  }
};

// What Semaphore and BoundedSemaphore share.
class SemaphoreBase : public ProxyBase {
 public:
  using ProxyBase::ProxyBase;

  void acquire() { call_waiting<op::SemAcquire>(wait_forever); }
  bool try_acquire() { return call<op::SemAcquire>(std::int64_t{0}); }
  template <class Rep, class Period>
  bool try_acquire_for(std::chrono::duration<Rep, Period> d) {
    const std::int64_t ns = timeout_ns(d);
    return call_waiting<op::SemAcquire>(ns);
  }
  template <class Clock, class Duration>
  bool try_acquire_until(std::chrono::time_point<Clock, Duration> tp) {
    auto left = tp - Clock::now();
    return try_acquire_for(left < decltype(left)::zero() ? decltype(left)::zero() : left);
  }
  // n >= 1, else ValueError; a BoundedSemaphore released above its initial
  // value is a ValueError (and unchanged). Any connection may release,
  // unless the semaphore is session-aware (see SemaphoreOptions).
  void release(std::size_t n = 1) { call<op::SemRelease>(static_cast<std::uint64_t>(n)); }
  std::size_t value() const { return call<op::SemValue>(); }
};

}  // namespace detail

// A mutual-exclusion lock owned by one connection at a time. Releasing it
// from another connection is a StateError.
class Lock : public detail::LockBase {
 public:
  using LockBase::LockBase;
  static std::string type_signature() { return "lock"; }
};

// A recursive lock: its owner may acquire it again; it is free once released
// as many times.
class RLock : public detail::LockBase {
 public:
  using LockBase::LockBase;
  static std::string type_signature() { return "rlock"; }
};

// A condition variable with its own RLock, or bound to a Lock/RLock.
// lock()/unlock() act on that lock, so std::unique_lock<Condition> works.
// wait and notify need the lock held by this thread (StateError otherwise).
class Condition : public detail::LockBase {
 public:
  using LockBase::LockBase;
  static std::string type_signature() { return "condition"; }

  // Releases the lock (every level), waits for a notify, holds it again.
  void wait(std::unique_lock<Condition>& lk) {
    check(lk);
    call_waiting<detail::op::CondWait>(detail::wait_forever);
  }
  template <class Pred>
  void wait(std::unique_lock<Condition>& lk, Pred pred) {
    while (!pred()) wait(lk);
  }
  // False when the time passed without a notify; holds the lock either way.
  template <class Rep, class Period>
  bool wait_for(std::unique_lock<Condition>& lk, std::chrono::duration<Rep, Period> d) {
    check(lk);
    // The lock is waited for without a limit after the timeout.
    return checked_core().call_wait<detail::op::CondWait>(id_, std::nullopt, detail::timeout_ns(d));
  }
  // pred() at the end: true unless the time passed with pred() false.
  template <class Rep, class Period, class Pred>
  bool wait_for(std::unique_lock<Condition>& lk, std::chrono::duration<Rep, Period> d, Pred pred) {
    detail::timeout_ns(d);  // ValueError when negative
    const auto until = std::chrono::steady_clock::now() + d;
    while (!pred()) {
      auto left = until - std::chrono::steady_clock::now();
      if (left <= decltype(left)::zero()) return pred();
      wait_for(lk, left);
    }
    return true;
  }
  // Wakes up to n waiters (oldest first); returns how many.
  std::size_t notify(std::size_t n = 1) {
    return call<detail::op::CondNotify>(static_cast<std::uint64_t>(n));
  }
  std::size_t notify_all() {
    return call<detail::op::CondNotify>(std::numeric_limits<std::uint64_t>::max());
  }

 private:
  void check(const std::unique_lock<Condition>& lk) const {
    if (!lk.owns_lock() || lk.mutex()->id() != id_)
      throw StateError("wait on '" + name_ + "' needs a unique_lock holding it");
  }
};

// A counter of permits: acquire() takes one, waiting while there are none;
// waiters are served oldest first.
class Semaphore : public detail::SemaphoreBase {
 public:
  using SemaphoreBase::SemaphoreBase;
  static std::string type_signature() { return "semaphore"; }
};

// A Semaphore that may not be released above its initial value.
class BoundedSemaphore : public detail::SemaphoreBase {
 public:
  using SemaphoreBase::SemaphoreBase;
  static std::string type_signature() { return "bounded_semaphore"; }
};

// A flag processes wait for.
class Event : public detail::ProxyBase {
 public:
  using ProxyBase::ProxyBase;
  static std::string type_signature() { return "event"; }

  // Sets the flag and releases every waiter.
  void set() { call<detail::op::EventSet>(); }
  void clear() { call<detail::op::EventClear>(); }
  bool is_set() const { return call<detail::op::EventIsSet>(); }
  void wait() { call_waiting<detail::op::EventWait>(detail::wait_forever); }
  // True when the flag is set, false when the time passed first.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) {
    const std::int64_t ns = detail::timeout_ns(d);
    return call_waiting<detail::op::EventWait>(ns);
  }
};

// How a Barrier behaves (Manager::barrier), as Python's
// Barrier(parties, action, timeout).
struct BarrierOptions {
  // Run by exactly one party, the last to arrive, before the others are
  // released. If it throws, the barrier breaks: the others get
  // BrokenBarrier and the exception propagates from that party's wait().
  // The callable runs in the process of that party, so every process that
  // may arrive last needs it: open the barrier with the same action there,
  // or inherit the proxy across fork(). A proxy decoded from a container
  // carries none; arriving last through it breaks the barrier
  // (StateError).
  std::function<void()> action;
  // The limit of every wait() without its own; unset: none.
  std::optional<std::chrono::nanoseconds> timeout;
};

// A rendezvous of `parties` waiters, reusable cycle after cycle.
class Barrier : public detail::ProxyBase {
 public:
  Barrier() = default;
  Barrier(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name,
          std::function<void()> action = {})
      : ProxyBase(std::move(core), id, std::move(name)),
        action_(action ? std::make_shared<const std::function<void()>>(std::move(action))
                       : nullptr) {}
  static std::string type_signature() { return "barrier"; }
  // The open parameters for Manager::barrier.
  static Bytes params(std::size_t parties, const BarrierOptions& options) {
    Bytes out;
    encode_into(out, static_cast<std::uint64_t>(parties), static_cast<bool>(options.action),
                options.timeout ? detail::timeout_ns(*options.timeout) : detail::wait_forever);
    return out;
  }

  // Waits for every party; returns the arrival index (0 for the first).
  // BrokenBarrier when the barrier is or becomes broken, or when the
  // barrier's default timeout passes (which breaks it, as in Python).
  std::size_t wait() {
    auto r =
        checked_core().call_wait<detail::op::BarrierWait>(id_, std::nullopt, detail::wait_default);
    if (!r) throw BrokenBarrier("barrier '" + name_ + "': its timeout passed");
    return finish(*r);
  }
  // As wait(); nullopt when the time passed first, which breaks the barrier
  // for every other waiter.
  template <class Rep, class Period>
  std::optional<std::size_t> wait(std::chrono::duration<Rep, Period> d) {
    const std::int64_t ns = detail::timeout_ns(d);
    auto r = call_waiting<detail::op::BarrierWait>(ns);
    if (!r) return std::nullopt;
    return finish(*r);
  }
  // Breaks the barrier: waiters and later waits get BrokenBarrier.
  void abort() { call<detail::op::BarrierAbort>(); }
  // Back to empty and unbroken; current waiters get BrokenBarrier.
  void reset() { call<detail::op::BarrierReset>(); }
  bool broken() const { return call<detail::op::BarrierBroken>(); }
  std::size_t parties() const { return call<detail::op::BarrierParties>(); }
  std::size_t n_waiting() const { return call<detail::op::BarrierNWaiting>(); }

 private:
  // Runs the action when this party arrived last at a barrier with one.
  std::size_t finish(const detail::BarrierTurn& turn) {
    if (!turn.run_action) return static_cast<std::size_t>(turn.index);
    if (!action_) {
      report_failure("the last party's proxy carries no action");
      throw StateError("barrier '" + name_ +
                       "' has an action, which this proxy does not carry; the barrier is broken");
    }
    try {
      (*action_)();
    } catch (const std::exception& e) {
      report_failure(e.what());
      throw;
    } catch (...) {
      report_failure("the action threw");
      throw;
    }
    call<detail::op::BarrierActionDone>(true, std::string());
    return static_cast<std::size_t>(turn.index);
  }
  // Best effort: the caller throws its own error either way.
  void report_failure(const std::string& why) noexcept {
    try {
      call<detail::op::BarrierActionDone>(false, why);
    } catch (...) {
    }
  }

  std::shared_ptr<const std::function<void()>> action_;
};

}  // namespace mpshare
