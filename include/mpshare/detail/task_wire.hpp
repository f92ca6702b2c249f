// Pool task queues on the wire: what submitters, workers and the server
// exchange (ops Pool* in ops.def). Values only; docs/PROTOCOL.md has the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpshare/codec.hpp"

namespace mpshare::detail {

// How a task ended. Values are fixed on the wire.
enum class TaskStatus : std::uint8_t {
  ok = 0,           // data: the encoded results of the chunk
  error = 1,        // data: encode(type name, message) of what the task threw
  worker_lost = 2,  // data: encode(message); its workers died max_attempts times
  timeout = 3,      // data: encode(message); it ran longer than task_timeout
  cancelled = 4,    // data: encode(message); the pool was terminated
  server_lost = 5,  // never sent: the submitter lost the server
};

// A task name and the codec's signature of its function, e.g.
// ("square", "int32(int32)"). Local plain functions use "@local/<token>".
struct TaskKey {
  std::string name;
  std::string signature;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(name, signature);
  }
};

// Pool parameters fixed by whoever creates the pool (OpenRequest::params,
// and OpenReply::params for everyone who opens it).
struct PoolParams {
  std::uint32_t max_attempts = 3;
  std::uint64_t lease_ms = 30000;
  std::uint64_t task_timeout_ms = 0;  // 0: none
  template <class Ar>
  void serialize(Ar& ar) {
    ar(max_attempts, lease_ms, task_timeout_ms);
  }
};

// A task as submitted: the submitter's own tag (echoed in its result), the
// key id from PoolDeclare, and the encoded arguments of its chunk.
struct NewTask {
  std::uint64_t tag = 0;
  std::uint32_t key = 0;
  Bytes args;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(tag, key, args);
  }
};

// A task as a worker claims it. `claim` numbers the claims of one task:
// the worker's outcome names it, so an outcome of an earlier claim is known.
struct ClaimedTask {
  std::uint64_t id = 0;
  std::uint32_t claim = 0;
  std::uint32_t key = 0;
  Bytes args;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(id, claim, key, args);
  }
};

// A worker's outcome of one claimed task.
struct TaskOutcome {
  std::uint64_t id = 0;
  std::uint32_t claim = 0;
  TaskStatus status = TaskStatus::ok;
  Bytes data;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(id, claim, status, data);
  }
};

// A finished task as its submitter receives it.
struct TaskResult {
  std::uint64_t tag = 0;
  TaskStatus status = TaskStatus::ok;
  Bytes data;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(tag, status, data);
  }
};

using NewTasks = std::vector<NewTask>;
using TaskKeys = std::vector<TaskKey>;
using KeyIds = std::vector<std::uint32_t>;
using TaskOutcomes = std::vector<TaskOutcome>;

// Reply to PoolResults. `detached`: the submitter was detached; no more
// results will come.
struct ResultBatch {
  std::vector<TaskResult> results;
  bool detached = false;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(results, detached);
  }
};

// PoolJoin: a worker's offer. `local_token` non-empty: it also runs the
// plain functions of the pool process holding that token. `strict`: a name
// registered here with another signature refuses the worker (TypeMismatch);
// otherwise that name is just left out.
struct WorkerHello {
  std::vector<TaskKey> tasks;
  std::string local_token;
  std::int64_t pid = 0;
  std::string host;
  bool strict = true;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(tasks, local_token, pid, host, strict);
  }
};

struct WorkerWelcome {
  std::uint64_t worker = 0;
  KeyIds keys;  // per hello task (0: left out), then the local key if any
  PoolParams params;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(worker, keys, params);
  }
};

// Reply to PoolWork: claimed tasks, or `closed` once the pool is closed
// and no task is left (the worker should exit).
struct WorkBatch {
  std::vector<ClaimedTask> tasks;
  bool closed = false;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(tasks, closed);
  }
};

// Reply to PoolStatus.
struct PoolState {
  std::uint64_t queued = 0;
  std::uint64_t running = 0;
  std::uint64_t workers = 0;
  std::uint64_t finished = 0;
  std::uint64_t lost = 0;  // worker losses (disconnects and expired leases)
  bool closed = false;
  std::vector<std::int64_t> worker_pids;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(queued, running, workers, finished, lost, closed, worker_pids);
  }
};

}  // namespace mpshare::detail
