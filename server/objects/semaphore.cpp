// Semaphore and BoundedSemaphore: a count of free permits, acquirers served
// oldest first. By default permits are plain counts, as in Python: any
// connection may release one, and a permit taken by a connection that
// closes stays taken. A session-aware semaphore also counts the permits
// each connection holds and returns them when it closes.
#include <algorithm>
#include <unordered_map>

#include "factory.hpp"
#include "parked.hpp"

namespace mpshare::server {

namespace {

class SemaphoreObject final : public Object {
 public:
  SemaphoreObject(const ObjectContext& cx, const OpenRequest& req, std::uint64_t value,
                  bool session_aware)
      : Object(cx, req),
        value_(value),
        initial_(value),
        bounded_(req.kind == Kind::bounded_semaphore),
        session_aware_(session_aware),
        waiters_(*this, [](Pending<op::SemAcquire> p) { p.complete(false); }) {}

  std::uint64_t size() const override { return waiters_.size(); }
  std::uint64_t value() const { return value_; }
  bool accepts(const OpenRequest& req) const override {
    std::int64_t value = 0;
    bool session_aware = false;
    decode_into(req.params, value, session_aware);
    same_param(*this, "initial value", static_cast<std::int64_t>(initial_), value);
    same_param(*this, "session_aware", session_aware_, session_aware);
    return true;
  }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const override {
    for (const auto& [s, n] : held_) d.holders.push_back(Holding{s, 0, "permits", n, 0});
    std::sort(d.holders.begin(), d.holders.end(),
              [](auto& a, auto& b) { return a.session < b.session; });
    waiters_.describe(d.waiters, now);
    d.state["value"] = static_cast<std::int64_t>(value_);
    d.state["initial"] = static_cast<std::int64_t>(initial_);
    d.state["session_aware"] = session_aware_;
  }

  std::optional<bool> acquire(Call& c, std::int64_t timeout_ns) {
    checked_timeout(timeout_ns);
    if (value_ > 0 && waiters_.empty()) {
      take(c.session_id());
      return true;
    }
    if (timeout_ns == 0) return false;
    waiters_.push(c.park<op::SemAcquire>(), timeout_ns);
    return std::nullopt;
  }

  void release(Call& c, std::uint64_t n) {
    if (n == 0) fail(Errc::value_error, "release count must be at least 1");
    // Session-aware: only a holder releases, and only what it holds (as
    // Hazelcast's session-aware ISemaphore), so the count never inflates.
    auto it = held_.find(c.session_id());
    if (session_aware_ && (it == held_.end() || n > it->second))
      fail(Errc::state_error, "release of " + std::to_string(n) + " permits of '" + name() +
                                  "', a session-aware semaphore of which this connection holds " +
                                  std::to_string(it == held_.end() ? 0 : it->second));
    if (bounded_ ? n > initial_ - value_ : n > UINT64_MAX - value_)
      fail(Errc::value_error, "'" + name() + "' released too many times (value " +
                                  std::to_string(value_) + ", initial " + std::to_string(initial_) +
                                  ", release " + std::to_string(n) + ")");
    if (session_aware_) {
      it->second -= n;
      if (it->second == 0) held_.erase(it);
    }
    value_ += n;
    wake();
  }

  void on_disconnect(SessionId s) override {
    waiters_.drop_session(s);
    auto it = held_.find(s);
    if (it == held_.end()) return;
    std::uint64_t back = it->second;
    held_.erase(it);
    value_ += back;
    wake();
  }
  void on_remove() override { waiters_.fail_all_removed(); }

 private:
  void wake() {
    while (value_ > 0 && !waiters_.empty()) {
      Pending<op::SemAcquire> p = waiters_.pop_front();
      if (p.session_closed()) continue;
      take(p.session_id());
      p.complete(true);
    }
  }

  void take(SessionId s) {
    --value_;
    if (session_aware_) ++held_[s];
  }

  std::uint64_t value_;
  std::uint64_t initial_;
  bool bounded_;
  bool session_aware_;
  std::unordered_map<SessionId, std::uint64_t> held_;  // session-aware: permits by holder
  Parked<Pending<op::SemAcquire>> waiters_;
};

SemaphoreObject& sem(Call& c) {
  return c.as<SemaphoreObject>();
}

}  // namespace

std::unique_ptr<Object> make_semaphore(const ObjectContext& cx, const OpenRequest& req) {
  std::int64_t value = 0;
  bool session_aware = false;
  decode_into(req.params, value, session_aware);
  if (value < 0)
    fail(Errc::value_error,
         "semaphore initial value must not be negative (got " + std::to_string(value) + ")");
  return std::make_unique<SemaphoreObject>(cx, req, static_cast<std::uint64_t>(value),
                                           session_aware);
}

std::optional<bool> handle(op::SemAcquire, Call& c, std::int64_t timeout_ns) {
  return sem(c).acquire(c, timeout_ns);
}

std::optional<Unit> handle(op::SemRelease, Call& c, std::uint64_t n) {
  sem(c).release(c, n);
  return Unit{};
}

std::optional<std::uint64_t> handle(op::SemValue, Call& c) {
  return sem(c).value();
}

}  // namespace mpshare::server
