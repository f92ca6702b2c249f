// Barrier: parties arrive and wait until the last one does; each gets its
// arrival index (0 for the first, as Python's threading.Barrier). A timeout,
// abort() or a waiting party's disconnect breaks it: every waiter then gets
// BrokenBarrier, and so does every wait until reset().
#include "factory.hpp"
#include "parked.hpp"

namespace mpshare::server {

namespace {

struct BarrierWaiter {
  Pending<op::BarrierWait> pending;
  std::uint64_t index;
};

class BarrierObject final : public Object {
 public:
  BarrierObject(const ObjectContext& cx, const OpenRequest& req, std::uint64_t parties)
      : Object(cx, req), parties_(parties), waiters_(*this, [this](BarrierWaiter w) {
          w.pending.complete(std::nullopt);
          break_all();
        }) {}

  std::uint64_t size() const override { return waiters_.size(); }
  std::uint64_t parties() const { return parties_; }
  bool broken() const { return broken_; }

  std::optional<std::optional<std::uint64_t>> wait(Call& c, std::int64_t timeout_ns) {
    checked_timeout(timeout_ns);
    if (broken_) fail(Errc::broken_barrier, "barrier '" + name() + "' is broken");
    const std::uint64_t index = waiters_.size();
    if (index + 1 == parties_) {
      for (auto& w : waiters_.take_all()) w.pending.complete(w.index);
      return std::optional<std::uint64_t>(index);
    }
    if (timeout_ns == 0) {
      break_all();
      return std::optional<std::uint64_t>();
    }
    waiters_.push(BarrierWaiter{c.park<op::BarrierWait>(), index}, timeout_ns);
    return std::nullopt;
  }

  void abort() { break_all(); }
  void reset() {
    fail_waiters();
    broken_ = false;
  }

  void on_disconnect(SessionId s) override {
    if (waiters_.drop_session(s) > 0) break_all();
  }
  void on_remove() override { waiters_.fail_all_removed(); }

 private:
  void break_all() {
    broken_ = true;
    fail_waiters();
  }
  void fail_waiters() {
    for (auto& w : waiters_.take_all())
      w.pending.fail(Errc::broken_barrier, "barrier '" + name() + "' is broken");
  }

  std::uint64_t parties_;
  bool broken_ = false;
  Parked<BarrierWaiter> waiters_;
};

BarrierObject& barrier(Call& c) {
  return c.as<BarrierObject>();
}

}  // namespace

std::unique_ptr<Object> make_barrier(const ObjectContext& cx, const OpenRequest& req) {
  auto parties = decode<std::uint64_t>(req.params);
  if (parties == 0) fail(Errc::value_error, "a barrier needs at least one party");
  return std::make_unique<BarrierObject>(cx, req, parties);
}

std::optional<std::optional<std::uint64_t>> handle(op::BarrierWait, Call& c,
                                                   std::int64_t timeout_ns) {
  return barrier(c).wait(c, timeout_ns);
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
