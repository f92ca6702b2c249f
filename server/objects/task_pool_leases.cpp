// TaskPool: what happens when a worker is lost (disconnect, lease ends),
// and when the pool closes or is removed. See task_pool.hpp.
#include <algorithm>
#include <asio/io_context.hpp>

#include "task_pool.hpp"

namespace mpshare::server {

void TaskPoolObject::lose(Worker& w, const std::string& why) {
  if (w.leased.empty()) return;
  ++lost_;
  std::vector<std::uint64_t> held(w.leased.begin(), w.leased.end());
  std::sort(held.begin(), held.end());
  w.leased.clear();
  if (held.size() == 1) {
    Task& t = tasks_.at(held[0]);
    t.worker = 0;
    if (++t.deaths >= params_.max_attempts) {
      finish(t, TaskStatus::worker_lost,
             message_data("its worker was lost " + std::to_string(t.deaths) +
                          " time(s) (last: " + why + ")"));
    } else {
      requeue(t, true);
    }
  } else {
    // Oldest first at the back of the suspects: they were claimed in order.
    for (auto id : held) requeue(tasks_.at(id), true);
  }
  pump();
}

void TaskPoolObject::watch_leases() {
  if (lease_timer_armed_ || params_.lease_ms == 0) return;
  if (!lease_timer_) lease_timer_ = std::make_unique<asio::steady_timer>(context().io);
  lease_timer_armed_ = true;
  const auto period = std::chrono::milliseconds(std::max<std::uint64_t>(params_.lease_ms / 4, 5));
  lease_timer_->expires_after(period);
  lease_timer_->async_wait([this, alive = std::weak_ptr<char>(alive_)](asio::error_code ec) {
    if (ec || alive.expired()) return;
    lease_timer_armed_ = false;
    const auto now = Clock::now();
    const auto lease = std::chrono::milliseconds(params_.lease_ms);
    bool any = false;
    for (auto& [id, w] : workers_) {
      if (!w.leased.empty() && now - w.last_heard > lease)
        lose(w, "worker " + std::to_string(id) + " (pid " + std::to_string(w.pid) +
                    ") silent longer than its lease");
      any = any || !w.leased.empty();
    }
    if (any) watch_leases();
  });
}

void TaskPoolObject::pump() {
  for (std::size_t i = 0; i < idle_.size();) {
    auto it = workers_.find(idle_[i]);
    if (it == workers_.end() || !it->second.parked) {
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    serve(it->second);
    if (it->second.parked)
      ++i;
    else
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void TaskPoolObject::serve(Worker& w) {
  WorkBatch b;
  b.tasks = claim(w, w.parked_max);
  b.closed = b.tasks.empty() && drained();
  if (b.tasks.empty() && !b.closed) return;
  w.parked->complete(b);
  w.parked.reset();
  w.timer.reset();
}

void TaskPoolObject::close(bool terminate) {
  closed_ = true;
  if (terminate) {
    std::vector<std::uint64_t> ids;
    for (auto& [id, t] : tasks_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (auto id : ids) {
      Task& t = tasks_.at(id);
      if (t.worker == 0) unqueue(t);
      finish(t, TaskStatus::cancelled, message_data("the pool was terminated"));
    }
  }
  pump();
}

void TaskPoolObject::on_disconnect(SessionId s) {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second.session != s) {
      ++it;
      continue;
    }
    it->second.parked.reset();
    lose(it->second, "worker " + std::to_string(it->first) + " (pid " +
                         std::to_string(it->second.pid) + ") disconnected");
    it = workers_.erase(it);
  }
  std::vector<std::uint64_t> subs;
  for (auto& [id, sub] : submitters_) {
    if (sub.sessions.erase(s) == 0) continue;
    if (sub.sessions.empty()) {
      subs.push_back(id);
    } else if (sub.parked && sub.parked->session_closed()) {
      sub.parked.reset();
      sub.timer.reset();
    }
  }
  for (auto id : subs) drop_submitter(id);
  pump();
}

void TaskPoolObject::fail_parked(Errc code, const std::string& why) {
  for (auto& [id, w] : workers_)
    if (w.parked) {
      w.parked->fail(code, why);
      w.parked.reset();
    }
  for (auto& [id, s] : submitters_)
    if (s.parked) {
      s.parked->fail(code, why);
      s.parked.reset();
    }
}

void TaskPoolObject::on_remove() {
  if (context().stopping)
    fail_parked(Errc::connection_lost, "the server is shutting down");
  else
    fail_parked(Errc::no_such_object, "'" + name() + "' was removed");
  alive_.reset();
}

}  // namespace mpshare::server
