// A shared counter incremented by worker processes, the multiprocessing
// tutorial way: read, add one, write back, under a Lock. Without the lock
// increments would be lost; with it the total is exact. Exits non-zero on
// a mismatch.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <mutex>
#include <vector>

int main() {
  constexpr int workers = 4;
  constexpr int increments = 2000;

  auto mgr = mpshare::Manager::spawn();
  auto lock = mgr.lock("counter-lock");
  auto counter = mgr.dict<std::string, std::int64_t>("counter");
  counter.set("total", 0);

  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        for (int i = 0; i < increments; ++i) {
          std::lock_guard guard(lock);  // released even if this process dies
          counter.set("total", counter.get("total") + 1);
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "worker %d: %s\n", w, e.what());
        code = 1;
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    pids.push_back(pid);
  }

  bool ok = true;
  for (pid_t pid : pids) {
    int status = 0;
    ok = ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 && ok;
  }
  const std::int64_t total = counter.get("total");
  std::printf("total = %lld (expected %d)\n", static_cast<long long>(total), workers * increments);
  return ok && total == workers * increments ? 0 : 1;
}
