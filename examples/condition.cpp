// Condition: a producer notifies consumers as items arrive; each consumer
// waits for an item, takes it and reports it. Exits non-zero unless every
// item was consumed exactly once.
#include <algorithm>
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <mutex>
#include <vector>

int main() {
  constexpr int consumers = 3;
  constexpr int per_consumer = 4;
  auto mgr = mpshare::Manager::spawn();
  auto cond = mgr.condition("items-ready");
  auto items = mgr.list<int>("items");
  auto consumed = mgr.list<int>("consumed");

  std::vector<mpshare::Process> procs;
  for (int c = 0; c < consumers; ++c)
    procs.emplace_back([&] {
      for (int k = 0; k < per_consumer; ++k) {
        std::unique_lock lk(cond);
        cond.wait(lk, [&] { return !items.empty(); });
        consumed.append(items.pop(0));
      }
    });
  procs.emplace_back([&] {  // the producer
    for (int i = 0; i < consumers * per_consumer; ++i) {
      std::unique_lock lk(cond);
      items.append(i);
      cond.notify();
    }
  });
  for (auto& p : procs) p.start();
  for (auto& p : procs) p.join();

  std::vector<int> got = consumed.to_vector();
  std::sort(got.begin(), got.end());
  bool ok = static_cast<int>(got.size()) == consumers * per_consumer;
  for (int i = 0; ok && i < consumers * per_consumer; ++i)
    ok = got[static_cast<std::size_t>(i)] == i;
  for (auto& p : procs) ok = ok && p.exitcode() == 0;
  std::printf("%zu items produced and consumed once each by %d consumers\n", got.size(), consumers);
  return ok ? 0 : 1;
}
