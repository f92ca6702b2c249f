// Event: a flag; waiters parked while it is clear, all answered by set().
#include "factory.hpp"
#include "parked.hpp"

namespace mpshare::server {

namespace {

class EventObject final : public Object {
 public:
  EventObject(const ObjectContext& cx, const OpenRequest& req)
      : Object(cx, req), waiters_(*this, [](Pending<op::EventWait> p) { p.complete(false); }) {}

  std::uint64_t size() const override { return waiters_.size(); }
  bool is_set() const { return set_; }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const override {
    waiters_.describe(d.waiters, now);
    d.state["set"] = set_;
  }

  void set() {
    set_ = true;
    for (auto& p : waiters_.take_all()) p.complete(true);
  }
  void clear() { set_ = false; }

  std::optional<bool> wait(Call& c, std::int64_t timeout_ns) {
    checked_timeout(timeout_ns);
    if (set_) return true;
    if (timeout_ns == 0) return false;
    waiters_.push(c.park<op::EventWait>(), timeout_ns);
    return std::nullopt;
  }

  void on_disconnect(SessionId s) override { waiters_.drop_session(s); }
  void on_remove() override { waiters_.fail_all_removed(); }

 private:
  bool set_ = false;
  Parked<Pending<op::EventWait>> waiters_;
};

EventObject& event(Call& c) {
  return c.as<EventObject>();
}

}  // namespace

std::unique_ptr<Object> make_event(const ObjectContext& cx, const OpenRequest& req) {
  return std::make_unique<EventObject>(cx, req);
}

std::optional<Unit> handle(op::EventSet, Call& c) {
  event(c).set();
  return Unit{};
}

std::optional<Unit> handle(op::EventClear, Call& c) {
  event(c).clear();
  return Unit{};
}

std::optional<bool> handle(op::EventIsSet, Call& c) {
  return event(c).is_set();
}

std::optional<bool> handle(op::EventWait, Call& c, std::int64_t timeout_ns) {
  return event(c).wait(c, timeout_ns);
}

}  // namespace mpshare::server
