// Queue and JoinableQueue: a FIFO of encoded values with an optional bound,
// parked getters, putters and joiners served oldest first.
//
// Invariants after every handler: getters wait only while the queue is
// empty; putters wait only while it is full (and only when bounded); once
// shut down, nobody waits but joiners.
#include <algorithm>
#include <deque>

#include "../handlers.hpp"
#include "factory.hpp"
#include "parked.hpp"

namespace mpshare::server {

namespace {

struct PutState {
  BytesList items;
  std::uint64_t next = 0;  // items[0, next) are in the queue
};

struct GetState {
  std::uint64_t max_items = 1;
};

class QueueObject final : public Object {
 public:
  QueueObject(const ObjectContext& cx, const OpenRequest& req, std::uint64_t maxsize)
      : Object(cx, req), maxsize_(maxsize) {}

  std::uint64_t size() const override { return items_.size(); }
  bool accepts(const OpenRequest& req) const override {
    same_param(*this, "maxsize", maxsize_,
               req.params.empty() ? std::uint64_t{0} : decode<std::uint64_t>(req.params));
    return true;
  }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const override {
    getters_.describe(d.waiters, now);
    putters_.describe(d.waiters, now);
    joiners_.describe(d.waiters, now);
    d.state["depth"] = static_cast<std::int64_t>(items_.size());
    d.state["maxsize"] = static_cast<std::int64_t>(maxsize_);
    d.state["unfinished"] = static_cast<std::int64_t>(unfinished_);
    d.state["shut_down"] = shut_down_;
  }

  void on_disconnect(SessionId s) override {
    getters_.drop_session(s);
    putters_.drop_session(s);
    joiners_.drop_session(s);
  }
  void on_remove() override {
    getters_.fail_all_removed();
    putters_.fail_all_removed();
    joiners_.fail_all_removed();
  }

  // Parked puts are not stored yet: their putter still holds its proxies.
  void for_each_stored(const std::function<void(std::string_view)>& f) const override {
    for (const auto& v : items_) f(v);
  }

  bool room() const { return maxsize_ == 0 || items_.size() < maxsize_; }

  void push(Bytes item) {
    items_.push_back(std::move(item));
    ++unfinished_;
  }

  BytesList take(std::uint64_t max_items) {
    const auto n = std::min<std::uint64_t>(max_items, items_.size());
    BytesList out(std::make_move_iterator(items_.begin()),
                  std::make_move_iterator(items_.begin() + static_cast<std::ptrdiff_t>(n)));
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }

  // Moves what fits from `p` into the queue; true when anything moved.
  bool fill_from(PutState& p) {
    bool moved = false;
    while (p.next < p.items.size() && room()) {
      push(std::move(p.items[p.next++]));
      moved = true;
    }
    return moved;
  }

  // Answers parked getters while there are items; true when any was served.
  bool serve_getters() {
    bool served = false;
    while (!getters_.empty() && !items_.empty()) {
      getters_.complete_front(take(getters_.front().state.max_items));
      served = true;
    }
    return served;
  }

  // Restores the invariants after a state change.
  void pump() {
    for (;;) {
      bool progress = false;
      while (!putters_.empty() && room()) {
        PutState& p = putters_.front().state;
        progress |= fill_from(p);
        if (p.next == p.items.size()) {
          const std::uint64_t put = p.next;
          putters_.complete_front(put);
        }
      }
      progress |= serve_getters();
      if (!progress) break;
    }
  }

  QueueStatus status() const {
    return {items_.size(),   maxsize_,        unfinished_, getters_.size(),
            putters_.size(), joiners_.size(), shut_down_};
  }

  [[noreturn]] void fail_shut_down() const {
    fail(Errc::shut_down, "queue '" + name() + "' is shut down");
  }

  // Python 3.13's Queue.shutdown: items dropped by `immediate` count as
  // finished tasks.
  void shutdown(bool immediate) {
    shut_down_ = true;
    if (immediate) {
      const std::uint64_t dropped = items_.size();
      items_.clear();
      unfinished_ -= std::min(unfinished_, dropped);
      if (unfinished_ == 0) joiners_.complete_all(true);
    }
    const std::string why = "queue '" + name() + "' is shut down";
    getters_.fail_all(Errc::shut_down, why);
    putters_.fail_all(Errc::shut_down, why);
  }

  const std::uint64_t maxsize_;
  std::deque<Bytes> items_;
  std::uint64_t unfinished_ = 0;
  bool shut_down_ = false;
  WaitList<op::QueueGet, GetState> getters_{*this, [](GetState&) { return BytesList{}; }};
  WaitList<op::QueuePut, PutState> putters_{*this, [](PutState& p) { return p.next; }};
  WaitList<op::QueueJoin> joiners_{*this, [](NoState&) { return false; }};
};

QueueObject& queue(Call& c) {
  return c.as<QueueObject>();
}

}  // namespace

std::unique_ptr<Object> make_queue(const ObjectContext& cx, const OpenRequest& req) {
  std::uint64_t maxsize = 0;
  if (!req.params.empty()) maxsize = decode<std::uint64_t>(req.params);
  return std::make_unique<QueueObject>(cx, req, maxsize);
}

std::optional<std::uint64_t> handle(op::QueuePut, Call& c, BytesList items,
                                    std::int64_t timeout_ns) {
  checked_timeout(timeout_ns);
  QueueObject& q = queue(c);
  if (q.shut_down_) q.fail_shut_down();
  PutState p{std::move(items)};
  // Earlier putters go first: a new one only moves items while none waits.
  if (q.putters_.empty()) {
    while (q.fill_from(p) && q.serve_getters()) {
    }
  }
  if (p.next == p.items.size() || timeout_ns == 0) return p.next;
  q.putters_.park(c, timeout_ns, std::move(p));
  return std::nullopt;
}

std::optional<BytesList> handle(op::QueueGet, Call& c, std::uint64_t max_items,
                                std::int64_t timeout_ns) {
  checked_timeout(timeout_ns);
  if (max_items == 0) fail(Errc::value_error, "get of 0 items");
  QueueObject& q = queue(c);
  if (q.items_.empty()) {
    if (q.shut_down_) q.fail_shut_down();
    if (timeout_ns == 0) return BytesList{};
    q.getters_.park(c, timeout_ns, GetState{max_items});
    return std::nullopt;
  }
  BytesList out = q.take(max_items);
  q.pump();
  return out;
}

std::optional<std::uint64_t> handle(op::QueueSize, Call& c) {
  return queue(c).items_.size();
}

std::optional<QueueStatus> handle(op::QueueInfo, Call& c) {
  return queue(c).status();
}

std::optional<Unit> handle(op::QueueTaskDone, Call& c, std::uint64_t n) {
  QueueObject& q = queue(c);
  if (n > q.unfinished_)
    fail(Errc::value_error, "task_done() called too many times on '" + q.name() + "' (" +
                                std::to_string(n) + " done, " + std::to_string(q.unfinished_) +
                                " unfinished)");
  q.unfinished_ -= n;
  if (q.unfinished_ == 0) q.joiners_.complete_all(true);
  return Unit{};
}

std::optional<bool> handle(op::QueueJoin, Call& c, std::int64_t timeout_ns) {
  checked_timeout(timeout_ns);
  QueueObject& q = queue(c);
  if (q.unfinished_ == 0) return true;
  if (timeout_ns == 0) return false;
  q.joiners_.park(c, timeout_ns, NoState{});
  return std::nullopt;
}

std::optional<Unit> handle(op::QueueShutdown, Call& c, bool immediate) {
  queue(c).shutdown(immediate);
  return Unit{};
}

}  // namespace mpshare::server
