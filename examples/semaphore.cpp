// Semaphore(2) limiting five processes: at most two are inside the guarded
// section at once. Exits non-zero if more ever were, or if a worker failed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <thread>
#include <vector>

int main() {
  auto mgr = mpshare::Manager::spawn();
  auto sem = mgr.semaphore("slots", 2);
  auto inside = mgr.value<std::int64_t>("inside", 0);
  auto peak = mgr.value<std::int64_t>("peak", 0);
  auto done = mgr.value<std::int64_t>("done", 0);

  std::vector<mpshare::Process> workers;
  for (int i = 0; i < 5; ++i)
    workers.emplace_back(
        [&](int id) {
          sem.acquire();
          const std::int64_t now = inside.fetch_add(1) + 1;
          peak.with_lock([now](std::int64_t& p) { p = std::max(p, now); });
          std::printf("worker %d inside (%lld in)\n", id, static_cast<long long>(now));
          std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the work
          inside.fetch_sub(1);
          done.fetch_add(1);
          sem.release();
        },
        i);
  for (auto& w : workers) w.start();
  for (auto& w : workers) w.join();

  bool ok = done.load() == 5 && peak.load() <= 2 && peak.load() >= 1;
  for (auto& w : workers) ok = ok && w.exitcode() == 0;
  std::printf("5 workers done, at most %lld inside at once (limit 2)\n",
              static_cast<long long>(peak.load()));
  return ok ? 0 : 1;
}
