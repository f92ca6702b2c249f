#include "fd_registry.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <unordered_set>

namespace mpshare::detail {

namespace {

struct State {
  std::mutex mu;
  std::unordered_set<int> fds;
  std::atomic<std::uint64_t> generation{0};
};

State& state() {
  static State* s = [] {
    auto* st = new State;  // never destroyed: used from atfork handlers until exit
    ::pthread_atfork([] { state().mu.lock(); }, [] { state().mu.unlock(); },
                     [] {
                       State& s = state();
                       for (int fd : s.fds) ::close(fd);
                       s.fds.clear();
                       s.generation.fetch_add(1);
                       s.mu.unlock();
                     });
    return st;
  }();
  return *s;
}

}  // namespace

int open_inherited_fd(const std::function<int()>& open) {
  State& s = state();
  std::lock_guard lock(s.mu);  // the atfork prepare handler takes it too
  int fd = open();
  if (fd >= 0) s.fds.insert(fd);
  return fd;
}

void close_inherited_fd(int fd) {
  State& s = state();
  std::lock_guard lock(s.mu);  // no fork() between forgetting and closing it
  s.fds.erase(fd);
  ::close(fd);
}

std::uint64_t fork_generation() noexcept {
  return state().generation.load(std::memory_order_relaxed);
}

}  // namespace mpshare::detail
