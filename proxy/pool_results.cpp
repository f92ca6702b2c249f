// A Pool's results: read by the thread waiting for them, or by the
// collector thread while callbacks, progress or a big map need reading with
// no waiter, and handed to the task group each belongs to.
#include "pool_impl.hpp"

namespace mpshare::detail {

void PoolCore::Impl::route(const TaskResult& r) {
  std::shared_ptr<TaskGroup> group;
  std::size_t index = 0;
  {
    std::lock_guard lock(mu);
    auto it = ranges.upper_bound(r.tag);
    if (it == ranges.begin()) return;
    --it;
    Range& range = it->second;
    index = range.first + (r.tag - it->first);
    group = range.group;
    if (range.collected) --collected;
    if (--range.remaining == 0) ranges.erase(it);
  }
  group->on_result(index, r.status, r.data);
  std::lock_guard lock(mu);
  if (--outstanding == 0) cv.notify_all();
}

void PoolCore::Impl::fail_all(const std::string& why) {
  std::map<std::uint64_t, Range> left;
  {
    std::lock_guard lock(mu);
    left.swap(ranges);
  }
  const Bytes msg = encode(why);
  for (auto& [tag, range] : left)
    for (std::size_t i = 0; i < range.remaining; ++i)
      range.group->on_result(range.first + i, TaskStatus::server_lost, msg);
  std::lock_guard lock(mu);
  outstanding = 0;
  collected = 0;
  collector_done = true;
  cv.notify_all();
}

bool PoolCore::Impl::read(std::optional<Clock::time_point> deadline) {
  std::optional<std::chrono::nanoseconds> wait;
  std::int64_t timeout_ns = wait_forever;
  if (deadline) {
    wait = std::max<std::chrono::nanoseconds>(*deadline - Clock::now(), {});
    timeout_ns = wait->count();
  }
  ResultBatch batch;
  try {
    batch = core->call_wait<op::PoolResults>(id, wait, submitter, timeout_ns);
  } catch (const Error& e) {
    fail_all("pool '" + name + "' lost its server: " + e.what());
    return false;
  }
  for (const auto& r : batch.results) route(r);
  std::lock_guard lock(mu);
  if (batch.detached) collector_done = true;
  cv.notify_all();
  return !batch.detached;
}

// The collector: its session keeps the submitter alive whichever thread
// made it; it reads results while tasks that need them read without a
// waiter (callbacks, progress) or while they are still being submitted (a
// big map) are outstanding.
void PoolCore::Impl::collect() {
  try {
    core->call<op::PoolSubmit>(id, submitter, NewTasks{});  // joins this session
  } catch (const Error&) {
    // Closed already, or the server is gone: a reader sees that.
  }
  std::unique_lock lock(mu);
  for (;;) {
    cv.wait(lock, [&] { return stopping || collector_done || (collected > 0 && !reading); });
    if (stopping || collector_done) break;
    reading = true;
    lock.unlock();
    bool more = true;
    while (more) {
      more = read(std::nullopt);
      std::lock_guard guard(mu);
      more = more && collected > 0;
    }
    lock.lock();
    reading = false;
    cv.notify_all();
  }
  lock.unlock();
  core->disconnect_this_thread();
}

bool PoolCore::await(const std::function<bool()>& done, std::optional<Clock::time_point> deadline) {
  Impl& m = *impl_;
  std::unique_lock lock(m.mu);
  for (;;) {
    if (done()) return true;
    if (m.collector_done) return done();
    if (deadline && Clock::now() >= *deadline) return false;
    if (!m.reading && m.collected == 0) {
      m.reading = true;
      lock.unlock();
      {
        struct Release {
          Impl& m;
          ~Release() {
            std::lock_guard guard(m.mu);
            m.reading = false;
            m.cv.notify_all();
          }
        } release{m};
        m.read(deadline);
      }
      lock.lock();
      continue;
    }
    if (deadline)
      m.cv.wait_until(lock, *deadline);
    else
      m.cv.wait(lock);
  }
}

}  // namespace mpshare::detail
