// Lock and RLock: owned by the session that acquired them, waiters served
// oldest first, released when the owner's connection closes.
#include "lock.hpp"

#include <atomic>

#include "factory.hpp"

namespace mpshare::server {

namespace {

// Fencing tokens come from one counter, so they are strictly increasing
// per lock and never reused while the process runs, even by a lock
// re-created under the same name.
std::uint64_t next_token() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

class LockObject final : public LockHolder {
 public:
  LockObject(const ObjectContext& cx, const OpenRequest& req, bool recursive)
      : LockHolder(cx, req), state_(*this, recursive) {}

  std::uint64_t size() const override { return state_.n_waiting(); }
  void on_disconnect(SessionId s) override { state_.on_disconnect(s); }
  void on_remove() override { state_.on_remove(); }
  LockState* find_lock() override { return &state_; }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const override {
    state_.describe(d, now);
  }

 private:
  LockState state_;
};

LockState& lock_of(Call& c) {
  return static_cast<LockHolder&>(c.object()).lock_state();
}

}  // namespace

LockState::LockState(const Object& object, bool recursive)
    : object_(object), recursive_(recursive), waiters_(object, [](Waiter w) {
        std::get<Pending<op::LockAcquire>>(w.pending).complete(std::optional<Grant>());
      }) {}

void LockState::describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const {
  if (owner_ != 0) d.holders.push_back(Holding{owner_, owner_pid_, "lock", count_, token_});
  waiters_.describe(d.waiters, now);
  d.state["locked"] = owner_ != 0;
  d.state["token"] = static_cast<std::int64_t>(token_);
  d.state["owner_died"] = owner_died_;
}

Grant LockState::take(SessionId s, std::int64_t pid, std::uint32_t count) {
  owner_ = s;
  owner_pid_ = pid;
  count_ = count;
  token_ = next_token();
  Grant g{token_, owner_died_};
  owner_died_ = false;
  return g;
}

std::optional<std::optional<Grant>> LockState::acquire(Call& c, std::int64_t timeout_ns) {
  checked_timeout(timeout_ns);
  const SessionId s = c.session_id();
  if (owner_ == s) {
    if (recursive_) {
      ++count_;
      return std::optional<Grant>(Grant{token_, false});
    }
    if (timeout_ns == 0) return std::optional<Grant>();
    fail(Errc::state_error,
         "'" + object_.name() + "' is already held by this connection (a Lock is not recursive)");
  }
  if (owner_ == 0 && waiters_.empty()) return std::optional<Grant>(take(s, c.peer_pid(), 1));
  if (timeout_ns == 0) return std::optional<Grant>();
  waiters_.push(Waiter{s, c.peer_pid(), 1, false, c.park<op::LockAcquire>()}, timeout_ns);
  return std::nullopt;
}

void LockState::release(Call& c) {
  if (owner_ == 0)
    fail(Errc::state_error, "release of '" + object_.name() + "', which is unlocked");
  if (owner_ != c.session_id())
    fail(Errc::state_error, "release of '" + object_.name() + "', which another connection holds");
  if (--count_ > 0) return;
  owner_ = 0;
  grant_next();
}

std::uint32_t LockState::release_all(SessionId s) {
  if (owner_ != s) return 0;
  const std::uint32_t count = count_;
  owner_ = 0;
  count_ = 0;
  grant_next();
  return count;
}

void LockState::reacquire(Pending<op::CondWait> p, std::uint32_t count, bool notified) {
  if (owner_ == 0 && waiters_.empty()) {
    take(p.session_id(), p.peer_pid(), count);
    p.complete(notified);
    return;
  }
  const SessionId s = p.session_id();
  const std::int64_t pid = p.peer_pid();
  waiters_.push(Waiter{s, pid, count, notified, std::move(p)}, detail::wait_forever);
}

void LockState::grant_next() {
  while (owner_ == 0 && !waiters_.empty()) {
    Waiter w = waiters_.pop_front();
    if (std::visit([](auto& p) { return p.session_closed(); }, w.pending)) continue;
    Grant g = take(w.session, w.pid, w.count);
    if (auto* p = std::get_if<Pending<op::LockAcquire>>(&w.pending))
      p->complete(std::optional<Grant>(g));
    else
      std::get<Pending<op::CondWait>>(w.pending).complete(w.notified);
  }
}

void LockState::on_disconnect(SessionId s) {
  waiters_.take_if([s](const Waiter& w) { return w.session == s; });
  if (owner_ != s) return;
  owner_died_ = true;
  release_all(s);
}

void LockState::on_remove() {
  waiters_.fail_all_removed();
}

LockState& LockHolder::lock_state() {
  LockState* l = find_lock();
  if (l == nullptr) fail(Errc::no_such_object, "the lock of '" + name() + "' was removed");
  return *l;
}

std::unique_ptr<Object> make_lock(const ObjectContext& cx, const OpenRequest& req) {
  return std::make_unique<LockObject>(cx, req, req.kind == Kind::rlock);
}

std::optional<std::optional<Grant>> handle(op::LockAcquire, Call& c, std::int64_t timeout_ns) {
  return lock_of(c).acquire(c, timeout_ns);
}

std::optional<Unit> handle(op::LockRelease, Call& c) {
  lock_of(c).release(c);
  return Unit{};
}

std::optional<bool> handle(op::LockLocked, Call& c) {
  return lock_of(c).locked();
}

std::optional<std::optional<LockOwner>> handle(op::LockOwnerOf, Call& c) {
  return lock_of(c).owner_info();
}

}  // namespace mpshare::server
