// Value and Array across forked worker processes: each worker counts
// events into a shared total (lock-free fetch_add) and into its own slot of
// a shared array (under the array's lock), like the multiprocessing
// tutorial's Value('i', 0) and Array('i', [0, 0, 0]).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <span>
#include <vector>

int main() {
  constexpr int workers = 3;
  constexpr int events = 100000;

  auto mgr = mpshare::Manager::spawn();
  auto total = mgr.value<std::int64_t>("total", 0);
  auto per_worker = mgr.array<std::int32_t>("per_worker", workers);

  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    pid_t pid = ::fork();
    if (pid == 0) {
      for (int i = 0; i < events; ++i) {
        total.fetch_add(1);
        per_worker.with_lock([w](std::span<std::int32_t> counts) { counts[w] += 1; });
      }
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  bool ok = true;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  std::printf("total = %lld (mapped: %s)\n", static_cast<long long>(total.load()),
              total.is_mapped() ? "yes" : "no");
  auto counts = per_worker.to_vector();
  for (int w = 0; w < workers; ++w) std::printf("worker %d: %d\n", w, counts[w]);

  ok = ok && total.load() == std::int64_t{workers} * events;
  for (auto c : counts) ok = ok && c == events;
  if (!ok) {
    std::fprintf(stderr, "mismatch\n");
    return 1;
  }
  return 0;
}
