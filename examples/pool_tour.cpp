// The README's Pool section as a whole program: map, apply_async with a
// callback, lazy imap_unordered, close and join. Exits non-zero on a wrong
// result.
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <numeric>
#include <ranges>
#include <vector>

int square(int x) {
  return x * x;
}
MPSHARE_TASK(square);  // runs on any worker built with square as int32(int32)

int main() {
  std::vector<int> inputs(100);
  std::iota(inputs.begin(), inputs.end(), 0);
  long long sum = 0;
  auto use = [&](int s) { sum += s; };

  mpshare::Pool pool(2);                                // 2 local workers
  std::vector<int> squares = pool.map(square, inputs);  // chunksize: ceil(n / (4 x workers))
  auto r = pool.apply_async(square, std::tuple{7},
                            [](const int& v) { std::printf("callback: %d\n", v); });
  int v = r.get();  // or a TaskError, WorkerLost, TaskTimeout
  for (int s : pool.imap_unordered(square, std::views::iota(0, 10000), {.progress = true}))
    use(s);  // lazy: a bounded number in flight
  pool.close();
  pool.join();  // ~Pool closes, then joins

  long long want = 0;
  for (long long i = 0; i < 10000; ++i) want += i * i;
  std::printf("map: %zu squares, apply_async: %d, imap_unordered sum: %lld\n", squares.size(), v,
              sum);
  return squares.size() == 100 && squares[99] == 99 * 99 && v == 49 && sum == want ? 0 : 1;
}
