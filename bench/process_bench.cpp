// mpshare-process-bench: Pipe messages per second (small and 1 MiB) and
// Process start+join latency, with the same workloads bench/compare runs on
// Python's multiprocessing.
//
// usage: mpshare-process-bench [--json] [--quick]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mpshare/mpshare.hpp>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Messages of `size` bytes from this process to a child that receives them
// all, then answers with how many it got. Returns messages per second.
double pipe_rate(std::size_t size, int count) {
  auto [mine, theirs] = mpshare::pipe<std::string>();
  mpshare::Process receiver(
      [count](mpshare::Connection<std::string> c) {
        std::size_t bytes = 0;
        for (int i = 0; i < count; ++i) bytes += c.recv().size();
        c.send(std::to_string(bytes));
      },
      std::move(theirs));
  receiver.start();
  const std::string msg(size, 'x');
  const auto t0 = Clock::now();
  for (int i = 0; i < count; ++i) mine.send(msg);
  const std::string got = mine.recv();
  const double s = seconds_since(t0);
  receiver.join();
  if (got != std::to_string(size * static_cast<std::size_t>(count)) || receiver.exitcode() != 0) {
    std::fprintf(stderr, "pipe bench: wrong result %s\n", got.c_str());
    std::exit(1);
  }
  return count / s;
}

// Process start+join of a child that returns at once; seconds per round.
double start_join_latency(int rounds) {
  const auto t0 = Clock::now();
  for (int i = 0; i < rounds; ++i) {
    mpshare::Process p([] {});
    p.start();
    p.join();
    if (p.exitcode() != 0) std::exit(1);
  }
  return seconds_since(t0) / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0)
      json = true;
    else if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else {
      std::fprintf(stderr, "usage: %s [--json] [--quick]\n", argv[0]);
      return 2;
    }
  }
  const int scale = quick ? 1 : 4;
  const double small = pipe_rate(16, 50000 * scale);
  const double big = pipe_rate(1 << 20, 250 * scale);
  const double latency = start_join_latency(100 * scale);
  if (json) {
    std::printf(
        "{\"results\": [\n"
        "  {\"workload\": \"pipe 16 B\", \"items_per_s\": %.1f},\n"
        "  {\"workload\": \"pipe 1 MiB\", \"items_per_s\": %.1f},\n"
        "  {\"workload\": \"process start+join\", \"items_per_s\": %.1f, \"latency_us\": %.1f}\n"
        "]}\n",
        small, big, 1 / latency, latency * 1e6);
  } else {
    std::printf("pipe, 16 B messages     %12.0f msg/s\n", small);
    std::printf("pipe, 1 MiB messages    %12.0f msg/s\n", big);
    std::printf("process start+join      %12.1f us\n", latency * 1e6);
  }
  return 0;
}
