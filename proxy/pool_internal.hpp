// Pool internals shared by proxy/pool*.cpp: the worker loop and the fork
// server that starts (and restarts) worker processes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "mpshare/detail/client.hpp"
#include "mpshare/detail/task_registry.hpp"

namespace mpshare::detail {

// How a worker process ends; the fork server decides from it whether to
// start another.
inline constexpr int worker_exit_closed = 0;         // the pool is closed and drained
inline constexpr int worker_exit_recycle = 100;      // maxtasksperchild reached
inline constexpr int worker_exit_server_gone = 101;  // the server or the pool is gone
inline constexpr int worker_exit_init_failed = 102;  // the initializer threw
inline constexpr int worker_exit_timeout = 103;      // a task overran task_timeout
inline constexpr int worker_exit_refused = 104;      // the pool refused the worker

struct WorkerConfig {
  std::string address;
  AuthKey key;
  ConnectOptions connect;
  std::uint64_t pool = 0;   // the task pool's object id
  std::string local_token;  // runs the plain functions of the pool holding it
  std::function<void()> initializer;
  std::size_t maxtasks = 0;
  bool strict = true;
};

// Runs one worker until the pool closes (or maxtasks, or a lost server);
// returns its exit code. Never throws.
int run_worker(const WorkerConfig& config);

// A single-threaded process, forked when constructed, that forks `count`
// workers running `body` (its return value is the worker's exit code) and
// replaces each one that ends, until a worker ends with worker_exit_closed or
// worker_exit_server_gone, or terminate(). It kills its workers and exits
// when its owner dies. Not copyable; owned by one thread at a time.
class ForkServer {
 public:
  ForkServer(std::size_t count, std::function<int()> body);
  ~ForkServer();  // terminates and reaps, unless joined
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  // Kills the workers now.
  void terminate();
  // Waits for the fork server to exit: 0 once its workers ended because the
  // pool closed, 1 when they lost the server.
  int join();

 private:
  pid_t pid_ = 0;
  int command_ = -1;  // write end; closing it stops the fork server
  int status_ = -1;
};

// A random token naming this process's pool (hex).
std::string random_token();

}  // namespace mpshare::detail
