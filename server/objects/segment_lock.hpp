// The robust mutex of a Value/Array segment, taken on behalf of sessions
// without ever blocking the event loop. Used only on the server's
// event-loop thread.
#pragma once

#include <pthread.h>

#include <functional>
#include <memory>
#include <optional>

#include "parked.hpp"

namespace mpshare::server {

// Requests that need the mutex wait in FIFO order on the waiter module and
// take it with pthread_mutex_trylock, retrying on a short timer while a
// local client holds it. While the server holds it for a session (op
// SharedLock), only that session's requests run; it is released when the
// session unlocks or disconnects. Owned by its object, which must outlive
// it, as must `mutex`. Not copyable.
class SegmentLock {
 public:
  SegmentLock(const Object& owner, pthread_mutex_t* mutex);
  ~SegmentLock();
  SegmentLock(const SegmentLock&) = delete;
  SegmentLock& operator=(const SegmentLock&) = delete;

  // Runs f(owner_died) -> Op::Result once the mutex is held for c's
  // session: now, returning its result, or later in FIFO order, answering
  // the parked call. With `keep` the session holds the mutex afterwards
  // until unlock(); otherwise it is released (unless the session held it
  // already).
  // A run that throws (any exception, out of memory included) keeps
  // nothing: the level `keep` would have added is given back.
  template <class Op, class F>
  std::optional<typename Op::Result> run(Call& c, bool keep, F f) {
    if (std::optional<bool> owner_died = enter(c.session_id(), keep)) {
      struct Leave {
        SegmentLock& lock;
        bool kept;
        bool done = false;
        ~Leave() { lock.leave(kept && !done); }
      } leave{*this, keep};
      auto result = f(*owner_died);
      leave.done = true;
      return result;
    }
    Pending<Op> p = c.park<Op>();
    park(Waiter{p, keep, [p, f = std::move(f)](bool owner_died) mutable {
                  try {
                    p.complete(f(owner_died));
                    return true;
                  } catch (const HandlerError& e) {
                    p.fail(e.code(), e.what());
                  } catch (const Error& e) {
                    p.fail(e.errc(), e.what());
                  } catch (const std::bad_alloc&) {
                    p.fail(Errc::remote_error, "out of memory");
                  } catch (const std::exception& e) {
                    p.fail(Errc::remote_error, e.what());
                  }
                  return false;
                }});
    return std::nullopt;
  }

  // Gives up one level the session holds; StateError if it holds none.
  // `before_release` runs first, while the mutex is still held.
  void unlock(SessionId s, const std::function<void()>& before_release);

  void on_disconnect(SessionId s);
  void on_remove();
  // Introspection: the session holding the mutex (SharedLock), the waiters.
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const {
    if (holder_) d.holders.push_back(Holding{*holder_, 0, "shared_lock", depth_, 0});
    waiters_.describe(d.waiters, now);
  }

 private:
  struct Waiter {
    PendingCall pending;
    bool keep;
    std::function<bool(bool owner_died)> run;  // false: it failed
  };

  // Takes the mutex for `s` at once if no one waits: whether its previous
  // owner died, or nullopt (then the caller parks).
  std::optional<bool> enter(SessionId s, bool keep);
  // After a run: gives back the level a failed keeping run took, then
  // releases unless the session keeps the mutex.
  void leave(bool failed_keep);
  void park(Waiter w);
  void pump();
  bool try_acquire(bool& owner_died);
  void release();
  void arm_retry();

  const Object& owner_;
  pthread_mutex_t* mutex_;
  Parked<Waiter> waiters_;
  std::optional<SessionId> holder_;
  std::uint64_t depth_ = 0;
  std::unique_ptr<asio::steady_timer> retry_;
  bool retry_armed_ = false;
};

}  // namespace mpshare::server
