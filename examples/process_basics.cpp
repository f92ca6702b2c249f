// Process basics, as the first lesson of a multiprocessing tutorial: a
// worker with arguments, join, exit codes that follow Python, and a daemon.
// Exits non-zero when a result is not the expected one.
#include <cstdio>
#include <cstdlib>
#include <mpshare/mpshare.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

void worker(int n, std::string tag) {
  std::printf("%s: worker %d (%s) in pid %d\n", mpshare::current_process().name().c_str(), n,
              tag.c_str(), mpshare::current_process().pid());
}

int main() {
  bool ok = true;
  auto expect = [&ok](bool good, const char* what) {
    std::printf("%-44s %s\n", what, good ? "ok" : "WRONG");
    ok = ok && good;
  };
  std::printf("%s, %zu CPUs\n", mpshare::current_process().name().c_str(), mpshare::cpu_count());

  // Workers with arguments, started together and joined.
  std::vector<mpshare::Process> workers;
  for (int i = 0; i < 3; ++i) workers.emplace_back(worker, i, "tag-" + std::to_string(i));
  for (auto& p : workers) p.start();
  for (auto& p : workers) p.join();
  bool all_zero = true;
  for (auto& p : workers) all_zero = all_zero && p.exitcode() == 0;
  expect(all_zero, "a normal return: exit code 0");

  // Exit codes, as Python: 1 when the callable throws, n after std::exit(n).
  mpshare::Process thrower([] { throw std::runtime_error("this message goes to stderr"); });
  thrower.start();
  thrower.join();
  expect(thrower.exitcode() == 1, "an exception: exit code 1");

  mpshare::Process exiter([] { std::exit(3); });
  exiter.start();
  exiter.join();
  expect(exiter.exitcode() == 3, "std::exit(3): exit code 3");

  // A daemon that would run forever: killed by a signal, reported as -9.
  mpshare::Process daemon({.name = "heartbeat", .daemon = true}, [] {
    for (;;) ::pause();
  });
  daemon.start();
  expect(daemon.is_alive() && !daemon.join(50ms), "a daemon runs until it is stopped");
  daemon.kill();
  daemon.join();
  expect(daemon.exitcode() == -9, "killed by SIGKILL: exit code -9");
  expect(mpshare::active_children().empty(), "no active children left");
  // A daemon still running when its Process is destroyed is killed then,
  // and one whose parent dies (even by kill -9) dies with it.
  return ok ? 0 : 1;
}
