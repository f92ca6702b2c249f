// Event: three waiting processes released by one set(). Exits non-zero
// unless all three were released, and none before the set.
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <vector>

int main() {
  auto mgr = mpshare::Manager::spawn();
  auto go = mgr.event("go");
  auto released = mgr.value<std::int64_t>("released", 0);
  auto early = mgr.value<std::int64_t>("early", 0);

  std::vector<mpshare::Process> waiters;
  for (int i = 0; i < 3; ++i)
    waiters.emplace_back([&] {
      go.wait();
      if (!go.is_set()) early.fetch_add(1);
      released.fetch_add(1);
    });
  for (auto& w : waiters) w.start();

  std::printf("released before set(): %lld\n", static_cast<long long>(released.load()));
  go.set();
  for (auto& w : waiters) w.join();

  bool ok = released.load() == 3 && early.load() == 0;
  for (auto& w : waiters) ok = ok && w.exitcode() == 0;
  std::printf("released after one set(): %lld of 3\n", static_cast<long long>(released.load()));
  return ok ? 0 : 1;
}
