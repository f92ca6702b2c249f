// Test support for the synchronization objects: waiting (without sleeping)
// until waiters are parked, and timing how fast a killed holder's grip is
// released.
#pragma once

#include <mpshare/mpshare.hpp>
#include <thread>

#include "support.hpp"

namespace mpshare::test {

// What Manager::objects() reports as the size of `name` (its waiters).
inline std::uint64_t object_size(const Manager& mgr, const std::string& name) {
  for (const auto& o : mgr.objects())
    if (o.name == name) return o.size;
  throw std::runtime_error("no object named " + name);
}

// Polls until `name` has `n` parked waiters; false after `timeout`.
inline bool wait_parked(const Manager& mgr, const std::string& name, std::uint64_t n,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (object_size(mgr, name) != n) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

// Forks a child that runs hold(), reports it, then waits to be killed.
// Once it holds, a thread of this process runs take(), which must block;
// when `name` shows `parked` waiters the child gets SIGKILL. Returns the
// time from the kill until take() returned (take's exceptions propagate).
inline std::chrono::nanoseconds time_to_take_after_kill(const Manager& mgr, const std::string& name,
                                                        std::uint64_t parked,
                                                        const std::function<void()>& hold,
                                                        const std::function<void()>& take) {
  Pipe ready;
  pid_t child = fork_child([&] {
    hold();
    ready.write("h");
    ::pause();
  });
  ready.read(1);
  std::chrono::steady_clock::time_point taken;
  std::exception_ptr error;
  std::thread taker([&] {
    try {
      take();
    } catch (...) {
      error = std::current_exception();
    }
    taken = std::chrono::steady_clock::now();
  });
  bool ok = wait_parked(mgr, name, parked);
  auto killed = std::chrono::steady_clock::now();
  ::kill(child, SIGKILL);
  taker.join();
  wait_child(child);
  if (!ok) throw std::runtime_error("the waiter never parked");
  if (error) std::rethrow_exception(error);
  return taken - killed;
}

}  // namespace mpshare::test
