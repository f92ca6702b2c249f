// Condition: waiters parked until notified or timed out, each answered only
// once it holds the lock again. The lock is the Condition's own RLock, or a
// Lock/RLock bound by object id when the Condition was created.
#include <limits>

#include "../registry.hpp"
#include "factory.hpp"
#include "lock.hpp"

namespace mpshare::server {

namespace {

struct CondWaiter {
  Pending<op::CondWait> pending;
  std::uint32_t count;  // levels of the lock to restore
};

class ConditionObject final : public LockHolder {
 public:
  ConditionObject(const ObjectContext& cx, const OpenRequest& req, std::uint64_t lock_id)
      : LockHolder(cx, req),
        lock_id_(lock_id),
        waiters_(*this, [this](CondWaiter w) { timed_out(std::move(w)); }) {
    if (lock_id_ == 0) own_.emplace(*this, true);
  }

  std::uint64_t size() const override { return waiters_.size(); }
  // The lock's holder and waiters, then the parked CondWait calls.
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const override {
    if (const LockState* lock = const_cast<ConditionObject*>(this)->find_lock())
      lock->describe(d, now);
    d.state["notify_waiters"] = static_cast<std::int64_t>(waiters_.size());
    waiters_.describe(d.waiters, now);
  }

  LockState* find_lock() override {
    if (own_) return &*own_;
    Object* o = context().registry.find(lock_id_);
    if (o == nullptr || (o->kind() != Kind::lock && o->kind() != Kind::rlock)) return nullptr;
    return static_cast<LockHolder*>(o)->find_lock();
  }

  std::optional<bool> wait(Call& c, std::int64_t timeout_ns) {
    checked_timeout(timeout_ns);
    LockState& lock = held_lock(c, "wait on");
    auto p = c.park<op::CondWait>();
    const std::uint32_t count = lock.release_all(c.session_id());
    if (timeout_ns == 0)
      lock.reacquire(std::move(p), count, false);
    else
      waiters_.push(CondWaiter{std::move(p), count}, timeout_ns);
    return std::nullopt;
  }

  std::uint64_t notify(Call& c, std::uint64_t n) {
    LockState& lock = held_lock(c, "notify");
    std::uint64_t woken = 0;
    while (woken < n && !waiters_.empty()) {
      CondWaiter w = waiters_.pop_front();
      if (w.pending.session_closed()) continue;
      lock.reacquire(std::move(w.pending), w.count, true);
      ++woken;
    }
    return woken;
  }

  // A bound lock too: a session that only ever named this Condition may
  // hold or wait for it. LockState::on_disconnect may run twice.
  void on_disconnect(SessionId s) override {
    waiters_.drop_session(s);
    if (LockState* lock = find_lock()) lock->on_disconnect(s);
  }
  void on_remove() override {
    waiters_.fail_all_removed();
    if (own_) own_->on_remove();
  }

 private:
  // The lock, which the caller must hold (StateError otherwise).
  LockState& held_lock(Call& c, const char* what) {
    LockState& lock = lock_state();
    if (lock.owner() != c.session_id())
      fail(Errc::state_error,
           std::string("cannot ") + what + " '" + name() + "' without holding its lock");
    return lock;
  }

  void timed_out(CondWaiter w) {
    LockState* lock = find_lock();
    if (lock == nullptr)
      w.pending.fail(Errc::no_such_object, "the lock of '" + name() + "' was removed");
    else
      lock->reacquire(std::move(w.pending), w.count, false);
  }

  std::uint64_t lock_id_;  // 0: own lock
  std::optional<LockState> own_;
  Parked<CondWaiter> waiters_;
};

ConditionObject& cond(Call& c) {
  return c.as<ConditionObject>();
}

}  // namespace

std::unique_ptr<Object> make_condition(const ObjectContext& cx, const OpenRequest& req) {
  std::uint64_t lock_id = req.params.empty() ? 0 : decode<std::uint64_t>(req.params);
  return std::make_unique<ConditionObject>(cx, req, lock_id);
}

std::optional<bool> handle(op::CondWait, Call& c, std::int64_t timeout_ns) {
  return cond(c).wait(c, timeout_ns);
}

std::optional<std::uint64_t> handle(op::CondNotify, Call& c, std::uint64_t n) {
  return cond(c).notify(c, n);
}

}  // namespace mpshare::server
