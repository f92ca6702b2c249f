// Pool: its task queue on the server, the local workers' fork server,
// submission, and the pool's end (results: proxy/pool_results.cpp).
#include "mpshare/pool.hpp"

#include <unistd.h>

#include <cstring>
#include <thread>

#include "mpshare/process.hpp"
#include "pool_impl.hpp"

namespace mpshare {

namespace detail {

namespace {

PoolParams params_of(const PoolOptions& o) {
  if (o.max_attempts < 1) throw ValueError("max_attempts must be at least 1");
  if (o.lease.count() < 0) throw ValueError("lease must not be negative");
  PoolParams p;
  p.max_attempts = static_cast<std::uint32_t>(o.max_attempts);
  p.lease_ms = static_cast<std::uint64_t>(o.lease.count());
  if (o.task_timeout) {
    if (o.task_timeout->count() <= 0) throw ValueError("task_timeout must be positive");
    p.task_timeout_ms = static_cast<std::uint64_t>(o.task_timeout->count());
  }
  return p;
}

// Submissions are split into frames of at most this many tasks.
constexpr std::size_t submit_batch = 4096;

}  // namespace

PoolCore::PoolCore(Manager* mgr, const std::string& name, const PoolOptions& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.params = params_of(options);
  m.processes = options.processes.value_or(cpu_count());
  if (mgr == nullptr) {
    m.own.emplace(Manager::spawn());
    mgr = &*m.own;
  }
  m.core = mgr->core();
  m.name = name.empty() ? "pool" : name;
  auto reply = open_object(*m.core, m.name, Kind::task_pool, "task_pool", ValueCode::opaque,
                           encode(m.params));
  m.id = reply.object_id;
  if (!reply.params.empty()) m.params = decode<PoolParams>(reply.params);
  m.token = random_token();
  // The registered tasks and this process's plain functions, declared before
  // any worker joins.
  detail::TaskKeys keys;
  const auto registered = registered_tasks();
  for (const auto& t : registered) keys.push_back({t.name, t.signature});
  keys.push_back({"@local/" + m.token, ""});
  auto ids = m.core->call<op::PoolDeclare>(m.id, keys, false);
  m.local_key = ids.back();
  for (std::size_t i = 0; i < registered.size(); ++i)
    if (ids[i] != 0)
      m.targets[registered[i].fn] = TaskTarget{ids[i], {}, "'" + registered[i].name + "'"};
  m.submitter = m.core->call<op::PoolAttach>(m.id);
  if (m.processes > 0) {
    WorkerConfig cfg;
    cfg.address = m.core->address();
    cfg.key = m.core->key();
    cfg.connect = m.core->options();
    cfg.pool = m.id;
    cfg.local_token = m.token;
    cfg.initializer = options.initializer;
    cfg.maxtasks = options.maxtasksperchild;
    cfg.strict = false;
    m.forks = std::make_unique<ForkServer>(m.processes, [cfg] { return run_worker(cfg); });
  }
  m.collector = std::thread([&m] { m.collect(); });
}

PoolCore::~PoolCore() {
  Impl& m = *impl_;
  try {
    if (!m.closed) close();
    if (!m.joined) join();
  } catch (const Error& e) {
    std::fprintf(stderr, "mpshare: closing pool '%s': %s\n", m.name.c_str(), e.what());
  }
  {
    std::lock_guard lock(m.mu);
    m.stopping = true;
    m.cv.notify_all();
  }
  try {
    m.core->call<op::PoolDetach>(m.id, m.submitter);
  } catch (const Error&) {
  }
  if (m.collector.joinable()) m.collector.join();
  m.forks.reset();
}

TaskTarget PoolCore::target(const TaskFn& fn) {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    auto it = m.targets.find(fn.fn);
    if (it != m.targets.end()) return it->second;
  }
  TaskTarget t;
  if (const TaskFn* reg = registered_task(fn.fn)) {
    // Registered after the pool started (a library loaded later).
    auto ids = m.core->call<op::PoolDeclare>(m.id, TaskKeys{{reg->name, reg->signature}}, true);
    t = TaskTarget{ids.at(0), {}, "'" + reg->name + "'"};
  } else {
    if (m.processes == 0)
      throw ValueError("a function of type " + fn.signature +
                       " is not registered with MPSHARE_TASK; a pool without local workers "
                       "runs only registered tasks");
    std::uint64_t addr[2] = {reinterpret_cast<std::uint64_t>(fn.invoke),
                             reinterpret_cast<std::uint64_t>(fn.fn)};
    t.key = m.local_key;
    t.prefix.assign(reinterpret_cast<const char*>(addr), sizeof addr);
    t.name = "<function " + fn.signature + ">";
  }
  std::lock_guard lock(m.mu);
  m.targets.emplace(fn.fn, t);
  return t;
}

void PoolCore::submit(const std::shared_ptr<TaskGroup>& group, const TaskTarget& target,
                      std::vector<Bytes> chunks, std::size_t first) {
  Impl& m = *impl_;
  const std::size_t n = chunks.size();
  if (n == 0) return;
  group->bind(weak_from_this());
  std::uint64_t tag;
  {
    std::lock_guard lock(m.mu);
    if (m.closed) throw StateError("pool '" + m.name + "' is closed");
    if (m.collector_done) throw ConnectionLost("pool '" + m.name + "' lost its server");
    tag = m.next_tag;
    m.next_tag += n;
    const bool collected = group->needs_collector() || n > submit_batch;
    m.ranges[tag] = Impl::Range{group, first, n, collected};
    m.outstanding += n;
    if (collected) {
      m.collected += n;
      m.cv.notify_all();
    }
  }
  std::size_t sent = 0;
  try {
    NewTasks batch;
    while (sent < n) {
      batch.clear();
      const std::size_t end = std::min(n, sent + submit_batch);
      for (std::size_t i = sent; i < end; ++i)
        batch.push_back(NewTask{tag + i, target.key, std::move(chunks[i])});
      m.core->call<op::PoolSubmit>(m.id, m.submitter, batch);
      sent = end;
    }
  } catch (...) {
    std::lock_guard lock(m.mu);
    auto it = m.ranges.find(tag);
    if (it != m.ranges.end()) {
      // Tasks never queued have no result coming.
      const std::size_t unsent = std::min(n - sent, it->second.remaining);
      it->second.remaining -= unsent;
      if (it->second.collected) m.collected -= unsent;
      if (it->second.remaining == 0) m.ranges.erase(it);
      m.outstanding -= unsent;
      if (m.outstanding == 0) m.cv.notify_all();
    }
    throw;
  }
}

std::size_t PoolCore::workers() {
  if (impl_->processes > 0) return impl_->processes;
  auto st = impl_->core->call<op::PoolStatus>(impl_->id);
  return std::max<std::size_t>(1, st.workers);
}

std::vector<std::int64_t> PoolCore::worker_pids() {
  return impl_->core->call<op::PoolStatus>(impl_->id).worker_pids;
}

bool PoolCore::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed;
}

std::size_t PoolCore::outstanding() const {
  std::lock_guard lock(impl_->mu);
  return impl_->outstanding;
}

void PoolCore::close() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->closed = true;
  }
  impl_->core->call<op::PoolClose>(impl_->id, false);
}

void PoolCore::terminate() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->closed = true;
    impl_->terminated = true;
  }
  if (impl_->forks) impl_->forks->terminate();
  impl_->core->call<op::PoolClose>(impl_->id, true);
}

void PoolCore::join() {
  Impl& m = *impl_;
  {
    std::unique_lock lock(m.mu);
    if (!m.closed)
      throw StateError("join() of pool '" + m.name + "' before close() or terminate()");
  }
  await([&] { return m.outstanding == 0; }, std::nullopt);
  if (m.forks) m.forks->join();
  m.joined = true;
}

}  // namespace detail

Pool::Pool() : Pool(PoolOptions{}) {}

namespace {
PoolOptions with_processes(std::size_t n) {
  PoolOptions o;
  o.processes = n;
  return o;
}
}  // namespace

Pool::Pool(std::size_t processes) : Pool(with_processes(processes)) {}

Pool::Pool(PoolOptions options)
    : core_(std::make_shared<detail::PoolCore>(nullptr, std::string(), options)) {}

namespace {
const std::string& checked_name(const std::string& name) {
  if (name.empty()) throw ValueError("a shared pool needs a name");
  return name;
}
}  // namespace

Pool::Pool(Manager& mgr, std::string name, PoolOptions options)
    : core_(std::make_shared<detail::PoolCore>(&mgr, checked_name(name), options)) {}

Pool::~Pool() = default;

void Pool::close() {
  core_->close();
}
void Pool::terminate() {
  core_->terminate();
}
void Pool::join() {
  core_->join();
}
std::vector<std::int64_t> Pool::worker_pids() {
  return core_->worker_pids();
}

void serve_pool(Manager& mgr, const std::string& name, PoolOptions options) {
  if (name.empty()) throw ValueError("serve_pool needs the pool's name");
  auto core = mgr.core();
  detail::PoolParams params = detail::params_of(options);
  auto reply = detail::open_object(*core, name, Kind::task_pool, "task_pool", ValueCode::opaque,
                                   encode(params));
  // Refused here, with the reason, when a task has another signature there.
  detail::TaskKeys keys;
  for (const auto& t : detail::registered_tasks()) keys.push_back({t.name, t.signature});
  core->call<detail::op::PoolDeclare>(reply.object_id, keys, true);
  detail::WorkerConfig cfg;
  cfg.address = core->address();
  cfg.key = core->key();
  cfg.connect = core->options();
  cfg.pool = reply.object_id;
  cfg.initializer = options.initializer;
  cfg.maxtasks = options.maxtasksperchild;
  cfg.strict = true;
  const std::size_t n = options.processes.value_or(cpu_count());
  int code;
  if (n == 0) {
    code = detail::run_worker(cfg);
    if (code == detail::worker_exit_recycle) code = 0;
  } else {
    detail::ForkServer forks(n, [cfg] { return detail::run_worker(cfg); });
    code = forks.join();
  }
  if (code != 0)
    throw ConnectionLost("the workers of pool '" + name + "' lost the server at " +
                         core->address());
}

}  // namespace mpshare
