// The worker loop: join the pool, then claim tasks, run them and hand in
// their outcomes. Claims are batched and, for tiny tasks, the next batch is
// claimed before the current one runs, so a worker never waits for a round
// trip between tasks. A watchdog thread sends heartbeats (the lease) while a
// long task runs, and ends the worker when a task overruns task_timeout.
#include <cxxabi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mpshare/process.hpp>
#include <mutex>
#include <thread>
#include <typeinfo>
#include <unordered_map>

#include "connection.hpp"
#include "pool_internal.hpp"

namespace mpshare::detail {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// What the watchdog sees of the main loop.
struct Watch {
  std::atomic<std::int64_t> started_ns{0};  // the running task's start; 0 when none
  std::atomic<std::uint64_t> task{0};
  std::atomic<std::uint32_t> claim{0};
  std::atomic<std::int64_t> last_request_ns{0};
};

class Worker {
 public:
  Worker(const WorkerConfig& cfg, std::shared_ptr<ClientCore> core)
      : cfg_(cfg), core_(std::move(core)) {}

  int run() {
    WorkerHello hello;
    const auto registered = registered_tasks();
    for (const auto& t : registered) hello.tasks.push_back({t.name, t.signature});
    hello.local_token = cfg_.local_token;
    hello.pid = ::getpid();
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    hello.host = host;
    hello.strict = cfg_.strict;
    WorkerWelcome welcome;
    try {
      welcome = core_->call<op::PoolJoin>(cfg_.pool, hello);
    } catch (const TypeMismatch& e) {
      std::fprintf(stderr, "mpshare worker %d refused: %s\n", ::getpid(), e.what());
      return worker_exit_refused;
    }
    worker_ = welcome.worker;
    params_ = welcome.params;
    for (std::size_t i = 0; i < registered.size() && i < welcome.keys.size(); ++i)
      if (welcome.keys[i] != 0) handlers_[welcome.keys[i]] = registered[i];
    if (!cfg_.local_token.empty() && welcome.keys.size() > registered.size())
      local_key_ = welcome.keys.back();
    watch_.last_request_ns = now_ns();
    std::thread dog([this] { watchdog(); });
    int code = worker_exit_server_gone;
    try {
      code = loop();
    } catch (const Error& e) {
      if (e.errc() != Errc::connection_lost && e.errc() != Errc::no_such_object)
        std::fprintf(stderr, "mpshare worker %d: %s\n", ::getpid(), e.what());
    }
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    dog.join();
    return code;
  }

 private:
  std::uint64_t send(const TaskOutcomes& outcomes, std::uint32_t max, std::int64_t timeout) {
    Connection& c = core_->connection();
    std::string& out = c.request_buffer();
    const std::uint64_t id = c.next_request();
    append_frame(out, op::PoolWork::code, 0, id, cfg_.pool, worker_, outcomes, max, timeout);
    c.send_all(Deadline::never());
    watch_.last_request_ns = now_ns();
    return id;
  }

  // Reads replies up to the one for request `id`.
  WorkBatch wait_reply(std::uint64_t id) {
    Connection& c = core_->connection();
    for (;;) {
      std::string_view payload;
      FrameHeader h = c.receive(Deadline::never(), payload);
      if (h.op != 0) throw_reply_error(h.op, payload);
      if (h.request == id) return decode<WorkBatch>(payload);
    }
  }

  std::uint32_t batch_size(std::size_t held) const {
    std::size_t k = avg_ns_ <= 0 ? 1 : static_cast<std::size_t>(2e6 / avg_ns_);
    k = std::clamp<std::size_t>(k, 1, 256);
    if (cfg_.maxtasks != 0) k = std::min(k, cfg_.maxtasks - std::min(cfg_.maxtasks, done_ + held));
    return static_cast<std::uint32_t>(k);
  }

  int loop() {
    std::uint32_t asked = batch_size(0);
    std::uint64_t claim = send({}, asked, wait_forever);
    TaskOutcomes outcomes;
    for (;;) {
      WorkBatch b = wait_reply(claim);
      claim = 0;
      if (b.closed) return worker_exit_closed;
      // Claim the next batch before running this one when tasks are tiny.
      const bool tiny = avg_ns_ > 0 && avg_ns_ < 200e3;
      if (tiny && b.tasks.size() == asked) {
        const std::uint32_t next = batch_size(b.tasks.size());
        if (next > 0) {
          claim = send({}, next, wait_forever);
          asked = next;
        }
      }
      outcomes.clear();
      run(b.tasks, outcomes);
      if (cfg_.maxtasks != 0 && done_ >= cfg_.maxtasks) {
        wait_reply(send(outcomes, 0, 0));
        return worker_exit_recycle;
      }
      if (claim != 0) {
        send(outcomes, 0, 0);
      } else {
        asked = batch_size(0);
        claim = send(outcomes, asked, wait_forever);
      }
    }
  }

  void run(std::vector<ClaimedTask>& tasks, TaskOutcomes& outcomes) {
    for (auto& t : tasks) {
      TaskOutcome o{t.id, t.claim, TaskStatus::ok, {}};
      watch_.task = t.id;
      watch_.claim = t.claim;
      const std::int64_t start = now_ns();
      watch_.started_ns = start;
      try {
        invoke(t, o.data);
      } catch (const std::exception& e) {
        o.status = TaskStatus::error;
        o.data = encode(std::pair<std::string, std::string>(demangle(typeid(e).name()), e.what()));
      } catch (...) {
        o.status = TaskStatus::error;
        o.data = encode(std::pair<std::string, std::string>("unknown", "a non-standard exception"));
      }
      const std::int64_t took = now_ns() - start;
      watch_.started_ns = 0;
      avg_ns_ = avg_ns_ <= 0 ? static_cast<double>(took) : 0.8 * avg_ns_ + 0.2 * took;
      ++done_;
      outcomes.push_back(std::move(o));
    }
  }

  void invoke(const ClaimedTask& t, Bytes& out) {
    if (t.key != 0 && t.key == local_key_) {
      std::uint64_t addr[2];
      if (t.args.size() < sizeof addr) throw ProtocolError("task arguments too short");
      std::memcpy(addr, t.args.data(), sizeof addr);
      auto invoker = reinterpret_cast<TaskInvoker>(addr[0]);
      invoker(reinterpret_cast<const void*>(addr[1]), std::string_view(t.args).substr(sizeof addr),
              out);
      return;
    }
    auto it = handlers_.find(t.key);
    if (it == handlers_.end())
      throw StateError("this worker has no task with key " + std::to_string(t.key));
    it->second.invoke(it->second.fn, t.args, out);
  }

  void watchdog() {
    const auto lease = std::chrono::milliseconds(params_.lease_ms);
    const auto limit = std::chrono::milliseconds(params_.task_timeout_ms);
    auto period = std::chrono::milliseconds(1000);
    if (lease.count() > 0) period = std::min(period, lease / 3);
    if (limit.count() > 0) period = std::min(period, limit / 4);
    period = std::max(period, std::chrono::milliseconds(2));
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [&] { return stop_; })) {
      const std::int64_t now = now_ns();
      const std::int64_t started = watch_.started_ns;
      try {
        if (limit.count() > 0 && started != 0 &&
            now - started > std::chrono::nanoseconds(limit).count()) {
          TaskOutcomes o{{watch_.task, watch_.claim, TaskStatus::timeout,
                          encode(std::string("it ran longer than its task_timeout of " +
                                             std::to_string(limit.count()) + " ms"))}};
          core_->call<op::PoolWork>(cfg_.pool, worker_, o, std::uint32_t{0}, std::int64_t{0});
          std::fflush(nullptr);
          ::_exit(worker_exit_timeout);
        }
        if (lease.count() > 0 &&
            now - watch_.last_request_ns > std::chrono::nanoseconds(lease / 3).count()) {
          core_->call<op::PoolHeartbeat>(cfg_.pool, worker_);
          watch_.last_request_ns = now;
        }
      } catch (const Error&) {
        // The main loop sees a lost server too.
      }
    }
  }

  const WorkerConfig& cfg_;
  std::shared_ptr<ClientCore> core_;
  std::uint64_t worker_ = 0;
  PoolParams params_;
  std::unordered_map<std::uint32_t, TaskFn> handlers_;
  std::uint32_t local_key_ = 0;
  double avg_ns_ = 0;
  std::size_t done_ = 0;
  Watch watch_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace

int run_worker(const WorkerConfig& cfg) {
  if (cfg.initializer) {
    try {
      cfg.initializer();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mpshare worker %d: initializer failed: %s\n", ::getpid(), e.what());
      return worker_exit_init_failed;
    } catch (...) {
      std::fprintf(stderr, "mpshare worker %d: initializer failed\n", ::getpid());
      return worker_exit_init_failed;
    }
  }
  try {
    auto core = std::make_shared<ClientCore>(cfg.address, cfg.key, cfg.connect);
    return Worker(cfg, core).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpshare worker %d: %s\n", ::getpid(), e.what());
    return worker_exit_server_gone;
  }
}

}  // namespace mpshare::detail
