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

TEST_CASE("barrier: parties, n_waiting, abort, reset, index 0 is the first arrival", "[barrier]") {
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
                                      ValueCode::opaque, Barrier::params(0, {})),
                  ValueError);
  auto bar = mgr.barrier("B", 2);
  CHECK_THROWS_AS(bar.wait(-1ms), ValueError);
  auto& core = *mgr.core();
  CHECK_THROWS_AS((core.call<detail::op::BarrierWait>(bar.id(), std::int64_t{-9})), ValueError);
  CHECK(bar.n_waiting() == 0);
  CHECK_THROWS_AS(mgr.barrier("B", 3), TypeMismatch);
  CHECK_THROWS_AS(mgr.barrier("B", 2, {.action = [] {}, .timeout = {}}), TypeMismatch);
  CHECK_THROWS_AS(mgr.barrier("B", 2, {.action = {}, .timeout = 1s}), TypeMismatch);
  CHECK_THROWS_AS(mgr.event("B"), TypeMismatch);
  CHECK_THROWS_AS((core.call<detail::op::BarrierActionDone>(bar.id(), true, std::string())),
                  StateError);
}

TEST_CASE("barrier: the action runs once per cycle, in the last party, before any is released",
          "[barrier][process]") {
  auto mgr = Manager::spawn();
  auto arrived = mgr.dict<int, std::int64_t>("arrived");
  auto actions = mgr.list<std::int64_t>("actions");  // arrivals seen by each action
  auto runners = mgr.list<int>("runners");
  int cycle = 0;  // each process counts its own cycles
  auto record = [&] {
    actions.append(arrived.get(cycle));
    runners.append(static_cast<int>(::getpid()));
  };
  auto bar = mgr.barrier("B", 3, {.action = record, .timeout = {}});
  constexpr int cycles = 4;
  auto codes = test::run_children(3, [&](int) {
    for (cycle = 0; cycle < cycles; ++cycle) {
      arrived.increment(cycle, 1);
      std::size_t idx = bar.wait();
      if (idx > 2) throw std::runtime_error("bad index");
      // Released only after this cycle's action ran.
      if (actions.size() != static_cast<std::size_t>(cycle + 1))
        throw std::runtime_error("released before the action ran");
    }
  });
  CHECK(codes == std::vector<int>(3, 0));
  // Each action ran when all 3 had arrived, exactly once per cycle.
  CHECK(actions.to_vector() == std::vector<std::int64_t>(cycles, 3));
  CHECK(runners.size() == static_cast<std::size_t>(cycles));
  CHECK_FALSE(bar.broken());
}

TEST_CASE("barrier: an action that throws breaks the barrier for the others",
          "[barrier][process]") {
  auto mgr = Manager::spawn();
  auto bar = mgr.barrier(
      "B", 3, {.action = [] { throw std::runtime_error("action failed"); }, .timeout = {}});
  test::Pipe out;
  std::vector<pid_t> kids;
  for (int i = 0; i < 2; ++i)
    kids.push_back(test::fork_child([&] {
      try {
        bar.wait();
        out.write("r");
      } catch (const BrokenBarrier&) {
        out.write("b");
      }
    }));
  REQUIRE(test::wait_parked(mgr, "B", 2));
  CHECK_THROWS_WITH(bar.wait(), "action failed");
  CHECK(out.read(2) == "bb");
  for (pid_t p : kids) CHECK(test::wait_child(p) == 0);
  CHECK(bar.broken());
  CHECK_THROWS_AS(bar.wait(), BrokenBarrier);
  bar.reset();
  CHECK_FALSE(bar.broken());
}

TEST_CASE("barrier: kill -9 of the party running the action breaks it for the others",
          "[barrier][process]") {
  auto mgr = Manager::spawn();
  test::Pipe running;
  auto hang = [&] {
    running.write("a");
    ::pause();
  };
  auto bar = mgr.barrier("B", 2, {.action = hang, .timeout = {}});
  bool broken = false;
  auto waiter = std::async(std::launch::async, [&] {
    try {
      bar.wait();
    } catch (const BrokenBarrier&) {
      broken = true;
    }
  });
  REQUIRE(test::wait_parked(mgr, "B", 1));
  pid_t runner = test::fork_child([&] { bar.wait(); });
  running.read(1);
  ::kill(runner, SIGKILL);
  test::wait_child(runner);
  waiter.get();
  CHECK(broken);
  CHECK(bar.broken());
}

TEST_CASE("barrier: a proxy without the action that arrives last breaks the barrier",
          "[barrier][process]") {
  auto mgr = Manager::spawn();
  auto bar = mgr.barrier("B", 2, {.action = [] {}, .timeout = {}});
  auto box = mgr.dict<int, Barrier>("box");
  box.set(0, bar);
  test::Pipe out;
  pid_t waiter = test::fork_child([&] {
    try {
      bar.wait();
    } catch (const BrokenBarrier&) {
      out.write("b");
    }
  });
  REQUIRE(test::wait_parked(mgr, "B", 1));
  CHECK_THROWS_AS(box.get(0).wait(), StateError);  // decoded: carries no action
  CHECK(out.read(1) == "b");
  CHECK(test::wait_child(waiter) == 0);
  CHECK(bar.broken());
}

TEST_CASE("barrier: the default timeout breaks it as in Python", "[barrier][process]") {
  auto mgr = Manager::spawn();
  auto bar = mgr.barrier("B", 3, {.action = {}, .timeout = 100ms});
  test::Pipe out;
  pid_t child = test::fork_child([&] {
    auto start = std::chrono::steady_clock::now();
    try {
      bar.wait();
    } catch (const BrokenBarrier&) {
      auto took = std::chrono::steady_clock::now() - start;
      out.write(took >= 100ms && took < 2s ? "t" : "x");
    }
  });
  CHECK(out.read(1) == "t");
  CHECK(test::wait_child(child) == 0);
  CHECK(bar.broken());
  // An explicit timeout overrides the default.
  auto slow = mgr.barrier("C", 2, {.action = {}, .timeout = 60s});
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(slow.wait(20ms).has_value());
  CHECK(std::chrono::steady_clock::now() - start < 30s);
}
