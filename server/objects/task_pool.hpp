// TaskPool: the task queue of a Pool. Submitters queue tasks by key (task
// name + signature); workers that registered a key claim its tasks, which
// are then leased to them until their outcome arrives. A worker lost (its
// session closed, or its lease passed without a request or heartbeat) gives
// its tasks back at once. A worker lost holding one task counts a death of
// that task; after max_attempts deaths the task alone fails with
// WorkerLost. A worker lost holding several makes them all suspects, which
// are only handed out alone until they finish. The first outcome of a task
// wins; later ones are dropped.
//
// Used only on the server's event-loop thread. Owned by the Registry.
#pragma once

#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../handlers.hpp"

namespace mpshare::server {

// An error or cancellation message as outcome bytes.
Bytes message_data(const std::string& message);

class TaskPoolObject final : public Object {
 public:
  using Clock = std::chrono::steady_clock;

  TaskPoolObject(const ObjectContext& cx, const OpenRequest& req, PoolParams params)
      : Object(cx, req), params_(params) {}
  ~TaskPoolObject() override;

  std::uint64_t size() const override { return queued_; }
  // Workers hold their leased tasks; parked claims and result waits.
  void describe(ObjectDetail& d, Clock::time_point now) const override;
  bool accepts(const OpenRequest&) const override { return true; }
  Bytes open_params() const override { return encode(params_); }
  void on_disconnect(SessionId s) override;
  void on_remove() override;

  std::uint64_t attach(Call& c);
  KeyIds declare(const TaskKeys& keys, bool strict);
  void submit(Call& c, std::uint64_t submitter, NewTasks tasks);
  std::optional<ResultBatch> results(Call& c, std::uint64_t submitter, std::int64_t timeout_ns);
  void detach(std::uint64_t submitter);
  WorkerWelcome join(Call& c, const WorkerHello& hello);
  std::optional<WorkBatch> work(Call& c, std::uint64_t worker, TaskOutcomes outcomes,
                                std::uint32_t max, std::int64_t timeout_ns);
  void heartbeat(std::uint64_t worker);
  void close(bool terminate);
  PoolState state() const;

 private:
  struct Task {
    std::uint64_t id = 0;
    std::uint64_t submitter = 0;  // 0: its submitter is gone; the result is dropped
    std::uint64_t tag = 0;
    std::uint32_t key = 0;
    Bytes args;
    std::uint32_t claims = 0;
    std::uint32_t deaths = 0;
    bool suspect = false;
    std::uint64_t worker = 0;  // holding its lease; 0 while queued
  };
  struct Key {
    TaskKey key;
    std::deque<std::uint64_t> queue;     // task ids, oldest first
    std::deque<std::uint64_t> suspects;  // handed out alone
  };
  struct Worker {
    std::uint64_t id = 0;
    SessionId session = 0;
    std::vector<std::uint32_t> keys;
    std::int64_t pid = 0;
    std::unordered_set<std::uint64_t> leased;
    Clock::time_point last_heard;
    std::optional<Pending<op::PoolWork>> parked;
    std::uint32_t parked_max = 0;
    std::unique_ptr<asio::steady_timer> timer;  // the parked claim's deadline
  };
  // Dropped when the last session that used it closes (any thread of the
  // submitting process may submit and read results).
  struct Submitter {
    std::unordered_set<SessionId> sessions;
    std::vector<TaskResult> ready;
    std::optional<Pending<op::PoolResults>> parked;
    std::unique_ptr<asio::steady_timer> timer;
  };

  Worker& worker(std::uint64_t id);
  Submitter& submitter(std::uint64_t id);
  Submitter& submitter(std::uint64_t id, SessionId session);
  bool drained() const { return closed_ && tasks_.empty(); }
  std::uint32_t intern(const TaskKey& k, bool strict, std::string& conflict);
  std::vector<ClaimedTask> claim(Worker& w, std::uint32_t max);
  void lease(Worker& w, Task& t, std::vector<ClaimedTask>& out);
  void outcome(TaskOutcome o);
  void finish(Task& t, TaskStatus status, Bytes data);
  void requeue(Task& t, bool suspect);
  void unqueue(const Task& t);
  void lose(Worker& w, const std::string& why);
  void drop_submitter(std::uint64_t id);
  // Serves parked claims that can now be served (oldest parked first).
  void pump();
  void serve(Worker& w);
  void answer_results(Submitter& s);
  void watch_leases();
  std::optional<WorkBatch> park_claim(Call& c, Worker& w, std::uint32_t max,
                                      std::int64_t timeout_ns);
  void fail_parked(Errc code, const std::string& why);

  PoolParams params_;
  bool closed_ = false;
  std::uint64_t next_task_ = 1, next_worker_ = 1, next_submitter_ = 1;
  std::uint64_t queued_ = 0, finished_ = 0, lost_ = 0;
  std::unordered_map<std::uint64_t, Task> tasks_;
  std::vector<Key> keys_;  // key id k is keys_[k - 1]
  std::unordered_map<std::string, std::uint32_t> key_by_name_;
  std::map<std::uint64_t, Worker> workers_;
  std::deque<std::uint64_t> idle_;  // workers with a parked claim, oldest first
  std::map<std::uint64_t, Submitter> submitters_;
  std::unique_ptr<asio::steady_timer> lease_timer_;
  bool lease_timer_armed_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace mpshare::server
