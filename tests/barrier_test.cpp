#include <catch2/catch.hpp>
#include <future>
#include <mpshare/mpshare.hpp>
#include <set>
#include <thread>

#include "support.hpp"
#include "sync_support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

TEST_CASE("barrier: a Barrier of 3 processes over several cycles", "[barrier][process]") {
  auto mgr = Manager::spawn();
  auto bar = mgr.barrier("B", 3);
  auto arrived = mgr.dict<int, std::int64_t>("arrived");
  auto indices = mgr.list<int>("indices");
  constexpr int cycles = 5;
  auto codes = test::run_children(3, [&](int) {
    for (int cycle = 0; cycle < cycles; ++cycle) {
      arrived.increment(cycle, 1);
      std::size_t idx = bar.wait();
      // Nobody passes before everyone arrived.
      if (arrived.get(cycle) != 3) throw std::runtime_error("passed the barrier early");
      indices.append(cycle * 10 + static_cast<int>(idx));
    }
  });
  CHECK(codes == std::vector<int>(3, 0));
  std::multiset<int> got;
  for (int v : indices.to_vector()) got.insert(v);
  std::multiset<int> want;
  for (int cycle = 0; cycle < cycles; ++cycle)
    for (int i = 0; i < 3; ++i) want.insert(cycle * 10 + i);
  CHECK(got == want);  // each cycle hands out indices 0, 1, 2
  CHECK_FALSE(bar.broken());
}

TEST_CASE("barrier: parties, n_waiting, abort, reset; index 0 is the first arrival", "[barrier]") {
  auto mgr = Manager::spawn();
  auto bar = mgr.barrier("B", 2);
  CHECK(bar.parties() == 2);
  CHECK(bar.n_waiting() == 0);
  std::size_t first = 99;
  std::thread t([&] { first = bar.wait(); });
  REQUIRE(test::wait_parked(mgr, "B", 1));
  CHECK(bar.n_waiting() == 1);
  CHECK(bar.wait() == 1);
  t.join();
  CHECK(first == 0);

  bar.abort();
  CHECK(bar.broken());
  CHECK_THROWS_AS(bar.wait(), BrokenBarrier);
  bar.reset();
  CHECK_FALSE(bar.broken());

  // reset() with a waiter: it gets BrokenBarrier, the barrier stays usable.
  auto w = std::async(std::launch::async, [&] { bar.wait(); });
  REQUIRE(test::wait_parked(mgr, "B", 1));
  bar.reset();
  CHECK_THROWS_AS(w.get(), BrokenBarrier);
  CHECK_FALSE(bar.broken());

  auto one = mgr.barrier("one", 1);
  CHECK(one.wait() == 0);
  CHECK(one.wait(0ms) == 0u);
}

TEST_CASE("barrier: a timeout breaks it for every waiter, within a bounded error", "[barrier]") {
  auto mgr = Manager::spawn();
  auto bar = mgr.barrier("B", 3);
  auto w = std::async(std::launch::async, [&] { bar.wait(); });
  REQUIRE(test::wait_parked(mgr, "B", 1));
  auto start = std::chrono::steady_clock::now();
  CHECK(bar.wait(100ms) == std::nullopt);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 100ms);
  CHECK(took < 600ms);
  CHECK_THROWS_AS(w.get(), BrokenBarrier);
  CHECK(bar.broken());
  bar.reset();
  CHECK(bar.wait(0ms) == std::nullopt);  // not the last party: breaks at once
  CHECK(bar.broken());
}

TEST_CASE("barrier: kill -9 of a waiting party breaks it for the others within 100 ms",
          "[barrier][process]") {
  auto mgr = Manager::spawn();
  auto bar = mgr.barrier("B", 3);
  bool broken = false;
  auto took = test::time_to_take_after_kill(
      mgr, "B", 2,
      [&] {
        // Reports holding, then waits: the parent sees 2 waiting after
        // this child and the parent's own waiter arrive.
        std::thread([&] { bar.wait(); }).detach();
        if (!test::wait_parked(mgr, "B", 1)) throw std::runtime_error("not parked");
      },
      [&] {
        try {
          bar.wait(10s);
        } catch (const BrokenBarrier&) {
          broken = true;
        }
      });
  CHECK(broken);
  CHECK(took < 100ms);
  CHECK(bar.broken());
}

TEST_CASE("barrier: bad input gets clear errors", "[barrier]") {
  auto mgr = Manager::spawn();
  CHECK_THROWS_AS(mgr.barrier("zero", 0), ValueError);
  CHECK_THROWS_AS(detail::open_object(*mgr.core(), "zero", Kind::barrier, "barrier",
                                      ValueCode::opaque, encode(std::uint64_t{0})),
                  ValueError);
  auto bar = mgr.barrier("B", 2);
  CHECK_THROWS_AS(bar.wait(-1ms), ValueError);
  auto& core = *mgr.core();
  CHECK_THROWS_AS((core.call<detail::op::BarrierWait>(bar.id(), std::int64_t{-9})), ValueError);
  CHECK(bar.n_waiting() == 0);
  CHECK_THROWS_AS(mgr.barrier("B", 3), TypeMismatch);
  CHECK_THROWS_AS(mgr.event("B"), TypeMismatch);
}
