// Pool: square over a range with map, apply_async with a callback, and
// imap_unordered with a progress line (drawn only when stderr is a terminal).
#include <atomic>
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <numeric>
#include <ranges>
#include <vector>

int square(int x) {
  return x * x;
}
MPSHARE_TASK(square);

int main() {
  mpshare::Pool pool(2);

  std::vector<int> inputs(1000);
  std::iota(inputs.begin(), inputs.end(), 0);
  std::vector<int> squares = pool.map(square, inputs);
  for (int i = 0; i < 1000; ++i)
    if (squares[i] != i * i) {
      std::fprintf(stderr, "map: wrong result at %d\n", i);
      return 1;
    }

  std::atomic<int> seen{0};
  auto r = pool.apply_async(square, std::tuple{7}, [&](const int& v) { seen = v; });
  if (r.get() != 49 || seen != 49) {
    std::fprintf(stderr, "apply_async: wrong result or callback not run\n");
    return 1;
  }

  long long sum = 0;
  for (int v : pool.imap_unordered(square, std::views::iota(0, 10000), {.progress = true}))
    sum += v;
  long long want = 0;
  for (long long i = 0; i < 10000; ++i) want += i * i;
  if (sum != want) {
    std::fprintf(stderr, "imap_unordered: sum %lld, want %lld\n", sum, want);
    return 1;
  }
  std::printf("map: 1000 squares, apply_async(square, 7) = 49, imap_unordered sum = %lld\n", sum);
  return 0;
}
