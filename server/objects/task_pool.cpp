// TaskPool's state machine (see task_pool.hpp); its op handlers are in
// task_pool_ops.cpp; losing workers, leases and the pool's end are in
// task_pool_leases.cpp.
#include "task_pool.hpp"

#include <algorithm>
#include <asio/io_context.hpp>

namespace mpshare::server {

Bytes message_data(const std::string& message) {
  return encode(message);
}

TaskPoolObject::~TaskPoolObject() = default;

TaskPoolObject::Worker& TaskPoolObject::worker(std::uint64_t id) {
  auto it = workers_.find(id);
  if (it == workers_.end())
    fail(Errc::key_error, "pool '" + name() + "' has no worker " + std::to_string(id));
  return it->second;
}

TaskPoolObject::Submitter& TaskPoolObject::submitter(std::uint64_t id) {
  auto it = submitters_.find(id);
  if (it == submitters_.end())
    fail(Errc::key_error, "pool '" + name() + "' has no submitter " + std::to_string(id));
  return it->second;
}

TaskPoolObject::Submitter& TaskPoolObject::submitter(std::uint64_t id, SessionId session) {
  Submitter& s = submitter(id);
  s.sessions.insert(session);
  return s;
}

std::uint64_t TaskPoolObject::attach(Call& c) {
  if (drained()) closed_ = false;  // a closed, finished pool opens again
  const std::uint64_t id = next_submitter_++;
  submitters_[id].sessions.insert(c.session_id());
  return id;
}

std::uint32_t TaskPoolObject::intern(const TaskKey& k, bool strict, std::string& conflict) {
  if (k.name.empty()) fail(Errc::value_error, "a task needs a name");
  auto it = key_by_name_.find(k.name);
  if (it == key_by_name_.end()) {
    keys_.push_back(Key{k, {}, {}});
    const auto id = static_cast<std::uint32_t>(keys_.size());
    key_by_name_.emplace(k.name, id);
    return id;
  }
  const TaskKey& have = keys_[it->second - 1].key;
  if (have.signature == k.signature) return it->second;
  const std::string why = "task '" + k.name + "' is registered in pool '" + name() + "' as " +
                          have.signature + ", not " + k.signature;
  if (strict) fail(Errc::type_mismatch, why);
  if (conflict.empty()) conflict = why;
  return 0;
}

KeyIds TaskPoolObject::declare(const TaskKeys& keys, bool strict) {
  // Check every key before interning any: a refused declaration changes nothing.
  if (strict)
    for (const auto& k : keys) {
      auto it = key_by_name_.find(k.name);
      if (it != key_by_name_.end() && keys_[it->second - 1].key.signature != k.signature) {
        std::string conflict;
        intern(k, true, conflict);
      }
    }
  KeyIds ids;
  std::string conflict;
  for (const auto& k : keys) ids.push_back(intern(k, strict, conflict));
  return ids;
}

void TaskPoolObject::submit(Call& c, std::uint64_t sub, NewTasks tasks) {
  submitter(sub, c.session_id());
  if (closed_) fail(Errc::state_error, "pool '" + name() + "' is closed");
  for (const auto& t : tasks)
    if (t.key == 0 || t.key > keys_.size())
      fail(Errc::value_error, "unknown task key " + std::to_string(t.key));
  for (auto& n : tasks) {
    const std::uint64_t id = next_task_++;
    Task& t = tasks_[id];
    t.id = id;
    t.submitter = sub;
    t.tag = n.tag;
    t.key = n.key;
    t.args = std::move(n.args);
    keys_[t.key - 1].queue.push_back(id);
    ++queued_;
  }
  pump();
}

std::optional<ResultBatch> TaskPoolObject::results(Call& c, std::uint64_t sub,
                                                   std::int64_t timeout_ns) {
  Submitter& s = submitter(sub, c.session_id());
  if (s.parked && s.parked->session_closed()) {
    s.parked.reset();
    s.timer.reset();  // its expiry must not answer the next wait
  }
  if (!s.ready.empty() || timeout_ns == 0) {
    ResultBatch b;
    b.results.swap(s.ready);
    return b;
  }
  if (s.parked) fail(Errc::state_error, "results of this submitter are awaited already");
  s.parked.emplace(c.park<op::PoolResults>());
  if (timeout_ns != wait_forever) {
    s.timer =
        std::make_unique<asio::steady_timer>(context().io, std::chrono::nanoseconds(timeout_ns));
    s.timer->async_wait([this, sub, alive = std::weak_ptr<char>(alive_)](asio::error_code ec) {
      if (ec || alive.expired()) return;
      auto it = submitters_.find(sub);
      if (it == submitters_.end() || !it->second.parked) return;
      it->second.parked->complete(ResultBatch{});
      it->second.parked.reset();
    });
  }
  return std::nullopt;
}

void TaskPoolObject::answer_results(Submitter& s) {
  if (s.parked && s.parked->session_closed()) {
    s.parked.reset();
    s.timer.reset();
  }
  if (!s.parked || s.ready.empty()) return;
  ResultBatch b;
  b.results.swap(s.ready);
  s.parked->complete(b);
  s.parked.reset();
  s.timer.reset();
}

void TaskPoolObject::detach(std::uint64_t sub) {
  auto it = submitters_.find(sub);
  if (it == submitters_.end()) return;
  if (it->second.parked) it->second.parked->complete(ResultBatch{{}, true});
  drop_submitter(sub);
}

void TaskPoolObject::drop_submitter(std::uint64_t sub) {
  submitters_.erase(sub);
  std::vector<std::uint64_t> gone;
  for (auto& [id, t] : tasks_) {
    if (t.submitter != sub) continue;
    t.submitter = 0;
    if (t.worker == 0) gone.push_back(id);
  }
  if (gone.empty()) return;
  for (std::uint64_t id : gone) unqueue(tasks_.at(id));
  for (std::uint64_t id : gone) tasks_.erase(id);
  pump();
}

WorkerWelcome TaskPoolObject::join(Call& c, const WorkerHello& hello) {
  WorkerWelcome welcome;
  welcome.keys = declare(hello.tasks, hello.strict);
  if (!hello.local_token.empty()) {
    std::string conflict;
    welcome.keys.push_back(intern({"@local/" + hello.local_token, ""}, true, conflict));
  }
  const std::uint64_t id = next_worker_++;
  Worker& w = workers_[id];
  w.id = id;
  w.session = c.session_id();
  w.pid = hello.pid;
  w.last_heard = Clock::now();
  for (auto k : welcome.keys)
    if (k != 0) w.keys.push_back(k);
  welcome.worker = id;
  welcome.params = params_;
  return welcome;
}

void TaskPoolObject::heartbeat(std::uint64_t id) {
  worker(id).last_heard = Clock::now();
}

std::optional<WorkBatch> TaskPoolObject::work(Call& c, std::uint64_t id, TaskOutcomes outcomes,
                                              std::uint32_t max, std::int64_t timeout_ns) {
  Worker& w = worker(id);
  w.last_heard = Clock::now();
  for (auto& o : outcomes) outcome(std::move(o));
  if (!outcomes.empty()) pump();
  if (max == 0) return WorkBatch{{}, drained()};
  if (w.parked) fail(Errc::state_error, "this worker has a claim waiting already");
  WorkBatch b;
  b.tasks = claim(w, max);
  b.closed = b.tasks.empty() && drained();
  if (!b.tasks.empty() || b.closed || timeout_ns == 0) return b;
  return park_claim(c, w, max, timeout_ns);
}

std::optional<WorkBatch> TaskPoolObject::park_claim(Call& c, Worker& w, std::uint32_t max,
                                                    std::int64_t timeout_ns) {
  w.parked.emplace(c.park<op::PoolWork>());
  w.parked_max = max;
  idle_.push_back(w.id);
  if (timeout_ns != wait_forever) {
    w.timer =
        std::make_unique<asio::steady_timer>(context().io, std::chrono::nanoseconds(timeout_ns));
    w.timer->async_wait(
        [this, id = w.id, alive = std::weak_ptr<char>(alive_)](asio::error_code ec) {
          if (ec || alive.expired()) return;
          auto it = workers_.find(id);
          if (it == workers_.end() || !it->second.parked) return;
          it->second.parked->complete(WorkBatch{});
          it->second.parked.reset();
          std::erase(idle_, id);
        });
  }
  return std::nullopt;
}

std::vector<ClaimedTask> TaskPoolObject::claim(Worker& w, std::uint32_t max) {
  std::vector<ClaimedTask> out;
  if (queued_ == 0) return out;
  // A suspect goes alone, to a worker holding nothing else.
  if (w.leased.empty())
    for (auto k : w.keys) {
      auto& s = keys_[k - 1].suspects;
      if (s.empty()) continue;
      Task& t = tasks_.at(s.front());
      s.pop_front();
      lease(w, t, out);
      return out;
    }
  // A fair share: the queued and running tasks over the workers.
  const std::uint64_t share =
      (queued_ + (tasks_.size() - queued_) + workers_.size() - 1) / workers_.size();
  std::uint64_t cap = share > w.leased.size() ? share - w.leased.size() : 1;
  cap = std::min<std::uint64_t>(cap, max);
  while (out.size() < cap) {
    Key* best = nullptr;
    for (auto k : w.keys) {
      Key& key = keys_[k - 1];
      if (!key.queue.empty() && (best == nullptr || key.queue.front() < best->queue.front()))
        best = &key;
    }
    if (best == nullptr) break;
    Task& t = tasks_.at(best->queue.front());
    best->queue.pop_front();
    lease(w, t, out);
  }
  return out;
}

void TaskPoolObject::lease(Worker& w, Task& t, std::vector<ClaimedTask>& out) {
  --queued_;
  ++t.claims;
  t.worker = w.id;
  w.leased.insert(t.id);
  out.push_back(ClaimedTask{t.id, t.claims, t.key, t.args});
  if (w.leased.size() == out.size()) w.last_heard = Clock::now();  // the lease starts now
  watch_leases();
}

void TaskPoolObject::outcome(TaskOutcome o) {
  auto it = tasks_.find(o.id);
  if (it == tasks_.end() || o.claim == 0 || o.claim > it->second.claims) return;  // late or bogus
  Task& t = it->second;
  if (t.worker == 0) unqueue(t);
  finish(t, o.status, std::move(o.data));
}

void TaskPoolObject::finish(Task& t, TaskStatus status, Bytes data) {
  if (t.worker != 0) {
    auto w = workers_.find(t.worker);
    if (w != workers_.end()) w->second.leased.erase(t.id);
  }
  ++finished_;
  auto s = submitters_.find(t.submitter);
  if (s != submitters_.end()) {
    s->second.ready.push_back(TaskResult{t.tag, status, std::move(data)});
    answer_results(s->second);
  }
  tasks_.erase(t.id);
}

void TaskPoolObject::requeue(Task& t, bool suspect) {
  t.worker = 0;
  t.suspect = t.suspect || suspect;
  Key& k = keys_[t.key - 1];
  if (t.suspect)
    k.suspects.push_back(t.id);
  else
    k.queue.push_front(t.id);
  ++queued_;
}

void TaskPoolObject::unqueue(const Task& t) {
  Key& k = keys_[t.key - 1];
  auto& q = t.suspect ? k.suspects : k.queue;
  auto it = std::find(q.begin(), q.end(), t.id);
  if (it != q.end()) {
    q.erase(it);
    --queued_;
  }
}

PoolState TaskPoolObject::state() const {
  PoolState s;
  s.queued = queued_;
  s.running = tasks_.size() - queued_;
  s.workers = workers_.size();
  s.finished = finished_;
  s.lost = lost_;
  s.closed = closed_;
  for (const auto& [id, w] : workers_) s.worker_pids.push_back(w.pid);
  return s;
}

void TaskPoolObject::describe(ObjectDetail& d, Clock::time_point now) const {
  const auto waited = [now](const PendingCall& p) {
    return std::chrono::duration<double>(now - p.since()).count();
  };
  for (const auto& [id, w] : workers_) {
    if (!w.leased.empty())
      d.holders.push_back(Holding{w.session, w.pid, "tasks", w.leased.size(), 0});
    if (w.parked) d.waiters.push_back(Waiting{w.session, w.parked->op(), waited(*w.parked)});
  }
  for (const auto& [id, s] : submitters_)
    if (s.parked)
      d.waiters.push_back(Waiting{s.parked->session_id(), s.parked->op(), waited(*s.parked)});
  const PoolState st = state();
  d.state["queued"] = static_cast<std::int64_t>(st.queued);
  d.state["leased"] = static_cast<std::int64_t>(st.running);
  d.state["workers"] = static_cast<std::int64_t>(st.workers);
  d.state["submitters"] = static_cast<std::int64_t>(submitters_.size());
  d.state["finished"] = static_cast<std::int64_t>(st.finished);
  d.state["closed"] = st.closed;
}

}  // namespace mpshare::server
