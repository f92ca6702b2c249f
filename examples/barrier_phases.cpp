// Worker processes computing in phases: in each phase every worker writes
// its partial result, then waits at a Barrier; after it, every worker reads
// all partial results of that phase, which are therefore complete. Exits
// non-zero if a worker ever sees an incomplete phase.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <string>
#include <vector>

int main() {
  constexpr int workers = 3;
  constexpr int phases = 4;

  auto mgr = mpshare::Manager::spawn();
  auto barrier = mgr.barrier("phase", workers);
  auto partial = mgr.dict<std::string, std::int64_t>("partial");

  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        for (int phase = 0; phase < phases; ++phase) {
          partial.set(std::to_string(phase) + "/" + std::to_string(w), (phase + 1) * (w + 1));
          std::size_t arrival = barrier.wait();  // BrokenBarrier if a worker dies
          std::int64_t sum = 0;
          for (int other = 0; other < workers; ++other)
            sum += partial.get(std::to_string(phase) + "/" + std::to_string(other));
          if (sum != (phase + 1) * workers * (workers + 1) / 2) {
            std::fprintf(stderr, "worker %d: phase %d incomplete\n", w, phase);
            code = 1;
          }
          if (arrival == 0) {
            std::printf("phase %d done: sum %lld\n", phase, static_cast<long long>(sum));
            std::fflush(stdout);
          }
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
  ok = ok && !barrier.broken() && partial.size() == static_cast<std::size_t>(workers * phases);
  std::printf("%s\n", ok ? "all phases complete" : "FAILED");
  return ok ? 0 : 1;
}
