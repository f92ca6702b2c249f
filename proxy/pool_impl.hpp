// The state a Pool's PoolCore shares between the threads that submit, the
// thread reading results (a waiting thread or the collector) and the
// collector; proxy/pool.cpp (lifecycle, submission) and
// proxy/pool_results.cpp (reading and routing results) both use it. Every
// field below `mu` is guarded by it.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "mpshare/manager.hpp"
#include "mpshare/pool.hpp"
#include "pool_internal.hpp"

namespace mpshare::detail {

struct PoolCore::Impl {
  std::optional<Manager> own;  // a private server; destroyed last
  std::shared_ptr<ClientCore> core;
  std::string name;
  std::uint64_t id = 0;
  PoolParams params;
  std::size_t processes = 0;
  std::string token;
  std::uint32_t local_key = 0;
  std::uint64_t submitter = 0;
  std::unique_ptr<ForkServer> forks;
  std::thread collector;

  struct Range {
    std::shared_ptr<TaskGroup> group;
    std::size_t first = 0;  // the group's index of the range's first task
    std::size_t remaining = 0;
    bool collected = false;  // read by the collector
  };
  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::uint64_t, Range> ranges;  // by first tag
  std::uint64_t next_tag = 1;
  std::size_t outstanding = 0;
  std::unordered_map<const void*, TaskTarget> targets;
  bool closed = false, terminated = false, joined = false;
  bool collector_done = false;  // no more results will come
  bool reading = false;         // a thread is reading results
  std::size_t collected = 0;    // outstanding tasks the collector reads (callbacks, big maps)
  bool stopping = false;

  void collect();
  // Reads one batch of results (waiting up to `deadline`) and routes it;
  // false once no more will come. Only the thread holding `reading` calls it.
  bool read(std::optional<Clock::time_point> deadline);
  void route(const TaskResult& r);
  void fail_all(const std::string& why);
};

}  // namespace mpshare::detail
