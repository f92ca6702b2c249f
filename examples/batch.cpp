// Batched calls: 256 sets, an increment and a get in one write, as README.md
// shows it (verbatim). Exits non-zero on a wrong result.
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <string>

int main() {
  auto mgr = mpshare::Manager::spawn();
  auto scores = mgr.dict<std::string, std::int64_t>("scores");
  scores.set("hits", 10);

  mpshare::Batch b(mgr);
  for (int i = 0; i < 256; ++i) b.set(scores, "k" + std::to_string(i), std::int64_t{i});
  auto hits = b.increment(scores, std::string("hits"), std::int64_t{1});
  auto old = b.get(scores, std::string("k7"));
  b.run();  // one write, one read of all replies
  std::int64_t n = hits.get(), v = old.get();

  std::printf("hits %lld, k7 %lld, %zu keys\n", static_cast<long long>(n),
              static_cast<long long>(v), scores.size());
  return n == 11 && v == 7 && scores.size() == 257 ? 0 : 1;
}
