// Barrier: parties arrive and wait until the last one does; each gets its
// arrival index (0 for the first, as Python's threading.Barrier). A timeout,
// abort() or a waiting party's disconnect breaks it: every waiter then gets
// BrokenBarrier, and so does every wait until reset().
//
// A barrier created with an action completes in two steps: the last party
// to arrive is told to run the action (BarrierTurn::run_action) while the
// others stay parked, and they are released when it reports success with
// BarrierActionDone. A failed action, or the runner's disconnect, breaks
// the barrier. Parties arriving meanwhile wait for the next cycle.
#include "factory.hpp"
#include "parked.hpp"

namespace mpshare::server {

namespace {

using Waiter = Pending<op::BarrierWait>;

class BarrierObject final : public Object {
 public:
  BarrierObject(const ObjectContext& cx, const OpenRequest& req, std::uint64_t parties,
                bool has_action, std::int64_t default_timeout)
      : Object(cx, req),
        parties_(parties),
        has_action_(has_action),
        default_timeout_(default_timeout),
        waiters_(*this, [this](Waiter w) {
          w.complete(std::nullopt);
          break_all("a party's timeout passed");
        }) {}

  std::uint64_t size() const override { return waiters_.size(); }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const override {
    waiters_.describe(d.waiters, now);
    d.state["parties"] = static_cast<std::int64_t>(parties_);
    d.state["arrivals"] =
        static_cast<std::int64_t>(waiters_.size() + tripped_.size() + (runner_ ? 1 : 0));
    d.state["broken"] = broken_;
  }
  std::uint64_t parties() const { return parties_; }
  bool accepts(const OpenRequest& req) const override {
    std::uint64_t parties = 0;
    bool has_action = false;
    std::int64_t timeout = wait_forever;
    decode_into(req.params, parties, has_action, timeout);
    same_param(*this, "parties", parties_, parties);
    same_param(*this, "an action", has_action_, has_action);
    same_param(*this, "default timeout (ns)", default_timeout_, timeout);
    return true;
  }
  bool broken() const { return broken_; }

  std::optional<std::optional<BarrierTurn>> wait(Call& c, std::int64_t timeout_ns) {
    if (timeout_ns == wait_default) timeout_ns = default_timeout_;
    checked_timeout(timeout_ns);
    if (broken_) fail_broken();
    const std::uint64_t index = waiters_.size();
    if (index + 1 >= parties_ && !runner_) {
      std::vector<Waiter> others = waiters_.take_all();
      if (!has_action_) {
        release(others);
        return std::optional<BarrierTurn>(BarrierTurn{index, false});
      }
      tripped_ = std::move(others);
      runner_ = c.session_id();
      return std::optional<BarrierTurn>(BarrierTurn{index, true});
    }
    if (timeout_ns == 0) {
      break_all("a party's timeout passed");
      return std::optional<BarrierTurn>();
    }
    waiters_.push(c.park<op::BarrierWait>(), timeout_ns);
    return std::nullopt;
  }

  void action_done(Call& c, bool ok, const std::string& message) {
    if (runner_ != c.session_id()) {
      if (broken_) fail_broken();
      fail(Errc::state_error, "no action of barrier '" + name() + "' runs for this connection");
    }
    runner_.reset();
    if (!ok) return break_all("its action failed: " + message);
    release(tripped_);
    tripped_.clear();
    // A whole next cycle may have arrived while the action ran: its last
    // arrival runs the action now (or, without one, all are released).
    if (waiters_.size() < parties_) return;
    std::uint64_t n = 0;
    std::vector<Waiter> cycle = waiters_.take_if([&](const Waiter&) { return n++ < parties_; });
    Waiter last = std::move(cycle.back());
    cycle.pop_back();
    tripped_ = std::move(cycle);
    runner_ = last.session_id();
    last.complete(BarrierTurn{parties_ - 1, true});
  }

  void abort() { break_all("it was aborted"); }
  void reset() {
    fail_waiters("it was reset");
    broken_ = false;
  }

  void on_disconnect(SessionId s) override {
    std::erase_if(tripped_, [s](const Waiter& w) { return w.session_id() == s; });
    if (runner_ == s)
      break_all("the party running its action disconnected");
    else if (waiters_.drop_session(s) > 0)
      break_all("a waiting party disconnected");
  }
  void on_remove() override {
    waiters_.fail_all_removed();
    for (auto& w : tripped_) waiters_.fail_removed(w);
    tripped_.clear();
    runner_.reset();
  }

 private:
  [[noreturn]] void fail_broken() const {
    fail(Errc::broken_barrier, "barrier '" + name() + "' is broken");
  }
  // Answers every party of a completed cycle with its arrival index.
  static void release(std::vector<Waiter>& cycle) {
    for (std::uint64_t i = 0; i < cycle.size(); ++i) cycle[i].complete(BarrierTurn{i, false});
  }
  void break_all(const std::string& why) {
    broken_ = true;
    fail_waiters(why);
  }
  void fail_waiters(const std::string& why) {
    const std::string message = "barrier '" + name() + "' is broken: " + why;
    for (auto& w : waiters_.take_all()) w.fail(Errc::broken_barrier, message);
    for (auto& w : tripped_) w.fail(Errc::broken_barrier, message);
    tripped_.clear();
    runner_.reset();
  }

  std::uint64_t parties_;
  bool has_action_;
  std::int64_t default_timeout_;
  bool broken_ = false;
  Parked<Waiter> waiters_;
  std::vector<Waiter> tripped_;      // released when the running action succeeds
  std::optional<SessionId> runner_;  // the session running the action
};

BarrierObject& barrier(Call& c) {
  return c.as<BarrierObject>();
}

}  // namespace

std::unique_ptr<Object> make_barrier(const ObjectContext& cx, const OpenRequest& req) {
  std::uint64_t parties = 0;
  bool has_action = false;
  std::int64_t timeout = wait_forever;
  decode_into(req.params, parties, has_action, timeout);
  if (parties == 0) fail(Errc::value_error, "a barrier needs at least one party");
  checked_timeout(timeout);
  return std::make_unique<BarrierObject>(cx, req, parties, has_action, timeout);
}

std::optional<std::optional<BarrierTurn>> handle(op::BarrierWait, Call& c,
                                                 std::int64_t timeout_ns) {
  return barrier(c).wait(c, timeout_ns);
}

std::optional<Unit> handle(op::BarrierActionDone, Call& c, bool ok, std::string message) {
  barrier(c).action_done(c, ok, message);
  return Unit{};
}

std::optional<Unit> handle(op::BarrierAbort, Call& c) {
  barrier(c).abort();
  return Unit{};
}

std::optional<Unit> handle(op::BarrierReset, Call& c) {
  barrier(c).reset();
  return Unit{};
}

std::optional<bool> handle(op::BarrierBroken, Call& c) {
  return barrier(c).broken();
}

std::optional<std::uint64_t> handle(op::BarrierNWaiting, Call& c) {
  return barrier(c).size();
}

std::optional<std::uint64_t> handle(op::BarrierParties, Call& c) {
  return barrier(c).parties();
}

}  // namespace mpshare::server
