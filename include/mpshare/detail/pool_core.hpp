// The untyped part of a Pool, shared by its typed front (pool.hpp): the
// task queue on the server, the local workers' fork server, and the reading
// of results, which routes every finished task to its TaskGroup.
//
// Results are read by a thread waiting for one (get, wait, imap, join), on
// its own connection, one such thread at a time. While tasks of a group
// with callbacks or progress (or of a map submitted in several frames) are
// outstanding, the pool's collector thread reads them instead.
//
// Thread safety: every method may be called from any thread. TaskGroup
// results arrive one at a time, on the thread reading results.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mpshare/detail/protocol.hpp"
#include "mpshare/detail/task_registry.hpp"

namespace mpshare {

class Manager;
struct PoolOptions;

namespace detail {

class PoolCore;

// The results of tasks submitted together (one apply, one map, one imap).
// Owned by shared_ptr: the pool keeps a group alive until its last task
// has finished, even when its handle was dropped.
class TaskGroup {
 public:
  virtual ~TaskGroup() = default;
  // Task `index` of this group finished. Runs on the thread reading
  // results; must not throw.
  virtual void on_result(std::size_t index, TaskStatus status, std::string_view data) = 0;
  // Whether its results must arrive while nobody waits (callbacks, progress).
  virtual bool needs_collector() const { return false; }
  // The pool that reads its results (PoolCore::submit sets it).
  void bind(std::weak_ptr<PoolCore> core) { core_ = std::move(core); }

 protected:
  std::weak_ptr<PoolCore> core_;
};

// Where a function's chunks go: its key in the pool, the bytes each chunk's
// arguments start with, and its name for messages.
struct TaskTarget {
  std::uint32_t key = 0;
  std::string prefix;
  std::string name;
};

// The exception a failed task gives (TaskError, WorkerLost, TaskTimeout,
// StateError when the pool was terminated).
std::exception_ptr task_exception(TaskStatus status, std::string_view data,
                                  const std::string& task);
// ProtocolError for a result that does not decode.
std::exception_ptr undecodable_result(const std::string& task, const std::string& why);

class PoolCore : public std::enable_shared_from_this<PoolCore> {
 public:
  using Clock = std::chrono::steady_clock;

  // `mgr` null: a private server, owned by the pool. Forks the local
  // workers' fork server now (before any thread of the pool starts).
  PoolCore(Manager* mgr, const std::string& name, const PoolOptions& options);
  ~PoolCore();
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;

  // Where `fn` runs: its registered name, or (local workers only) the
  // function itself. ValueError for a plain function in a pool without
  // local workers.
  TaskTarget target(const TaskFn& fn);
  // Queues one task per chunk; `group` receives task i as index first + i.
  // StateError once the pool is closed.
  void submit(const std::shared_ptr<TaskGroup>& group, const TaskTarget& target,
              std::vector<Bytes> chunks, std::size_t first);
  // Workers that share the work: local processes, else the remote workers
  // joined so far (at least 1).
  std::size_t workers();
  void close();
  void terminate();
  // Waits for every submitted task and its callbacks, then for the local
  // workers to exit. StateError unless closed or terminated.
  void join();
  bool closed() const;
  // Pids of the workers the server knows (local and remote).
  std::vector<std::int64_t> worker_pids();
  // Tasks submitted whose results (and callbacks) are not all done.
  std::size_t outstanding() const;
  // Waits until done() holds (false: the deadline passed first), reading
  // and routing results on this thread while no other thread does. done()
  // runs under the pool's lock and must only look at state.
  bool await(const std::function<bool()>& done, std::optional<Clock::time_point> deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Draws map progress on stderr (only when it is a terminal) at most 10 times
// a second, and calls `callback` at the same pace and once at the end.
class Progress {
 public:
  Progress(bool draw, std::function<void(std::size_t, std::size_t)> callback, std::size_t total);
  void update(std::size_t done);
  // Whether it draws or calls back at all.
  bool active() const { return draw_ || callback_ != nullptr; }

 private:
  bool draw_;
  std::function<void(std::size_t, std::size_t)> callback_;
  std::size_t total_;
  std::int64_t start_ns_ = 0, last_ns_ = 0;
};

}  // namespace detail
}  // namespace mpshare
