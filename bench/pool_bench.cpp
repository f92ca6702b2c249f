// mpshare-pool-bench: Pool throughput and latency on the workloads bench/compare
// runs beside Python's multiprocessing.Pool: 2 workers and 100,000 tiny
// int->int tasks with chunksize 1 and the default chunksize, the
// apply_async().get() round trip, and Pool(4) start + close + join.
// Prints one JSON object (--json) or a table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mpshare/mpshare.hpp>
#include <numeric>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int square(int x) {
  return x * x;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

MPSHARE_TASK(square);

int main(int argc, char** argv) {
  bool json = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json = true;
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
  }
  const int n = 100000;
  const int rounds = quick ? 1 : 3;
  std::vector<int> inputs(n);
  for (int i = 0; i < n; ++i) inputs[static_cast<std::size_t>(i)] = i % 40000;
  double map1 = 0, mapd = 0, p50 = 0, start = 0;
  {
    mpshare::Pool pool(2);
    pool.map(square, std::vector<int>(1000, 3), {.chunksize = 1});  // warm up
    std::vector<double> r1, rd;
    for (int r = 0; r < rounds; ++r) {
      auto t0 = Clock::now();
      auto out = pool.map(square, inputs, {.chunksize = 1});
      r1.push_back(n / seconds_since(t0));
      if (out[n - 1] != square(inputs[n - 1])) return 1;
      t0 = Clock::now();
      out = pool.map(square, inputs);
      rd.push_back(n / seconds_since(t0));
      if (out[n - 1] != square(inputs[n - 1])) return 1;
    }
    map1 = median(r1);
    mapd = median(rd);
    std::vector<double> lat;
    const int iters = quick ? 500 : 2000;
    for (int i = 0; i < iters + 100; ++i) {
      auto t0 = Clock::now();
      if (pool.apply_async(square, i).get() != i * i) return 1;
      if (i >= 100) lat.push_back(seconds_since(t0) * 1e6);
    }
    p50 = median(lat);
  }
  {
    std::vector<double> ts;
    for (int i = 0; i < (quick ? 3 : 10); ++i) {
      auto t0 = Clock::now();
      mpshare::Pool pool(4);
      pool.close();
      pool.join();
      ts.push_back(seconds_since(t0) * 1e3);
    }
    start = median(ts);
  }
  if (json) {
    std::printf(
        "{\"map_chunksize1_per_s\": %.0f, \"map_default_per_s\": %.0f, "
        "\"apply_get_p50_us\": %.1f, \"pool4_start_close_join_ms\": %.2f}\n",
        map1, mapd, p50, start);
  } else {
    std::printf("map chunksize=1:        %10.0f tasks/s\n", map1);
    std::printf("map default chunksize:  %10.0f tasks/s\n", mapd);
    std::printf("apply_async().get() p50: %9.1f us\n", p50);
    std::printf("Pool(4) start+close+join: %8.2f ms\n", start);
  }
  return 0;
}
