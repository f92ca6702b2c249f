#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>
#include <thread>

#include "support.hpp"
#include "sync_support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

TEST_CASE("semaphore: acquire, try_acquire, release(n), value", "[semaphore]") {
  auto mgr = Manager::spawn();
  auto s = mgr.semaphore("S", 2);
  CHECK(s.value() == 2);
  s.acquire();
  CHECK(s.try_acquire());
  CHECK_FALSE(s.try_acquire());
  CHECK(s.value() == 0);
  s.release();
  CHECK(s.value() == 1);
  s.release(3);  // a plain Semaphore may go above its initial value
  CHECK(s.value() == 4);
  CHECK_THROWS_AS(s.release(0), ValueError);

  auto b = mgr.bounded_semaphore("B", 2);
  b.acquire();
  CHECK_THROWS_AS(b.release(2), ValueError);
  CHECK(b.value() == 1);  // unchanged
  b.release();
  CHECK_THROWS_AS(b.release(), ValueError);
  CHECK(b.value() == 2);
}

TEST_CASE("semaphore: try_acquire_for returns within a bounded error of its timeout",
          "[semaphore]") {
  auto mgr = Manager::spawn();
  auto s = mgr.semaphore("S", 0);
  for (auto want : {20ms, 100ms}) {
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(s.try_acquire_for(want));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= want);
    CHECK(took < want + 500ms);
  }
  CHECK_FALSE(s.try_acquire_until(std::chrono::steady_clock::now() - 1s));
}

TEST_CASE("semaphore: Semaphore(2) used by 5 processes never has more than 2 inside",
          "[semaphore][process]") {
  auto mgr = Manager::spawn();
  auto s = mgr.semaphore("S", 2);
  auto d = mgr.dict<std::string, std::int64_t>("inside");
  auto peaks = mgr.list<std::int64_t>("peaks");
  auto codes = test::run_children(5, [&](int) {
    std::int64_t peak = 0;
    for (int i = 0; i < 300; ++i) {
      s.acquire();
      peak = std::max(peak, d.increment("n", 1));
      d.increment("n", -1);
      s.release();
    }
    peaks.append(peak);
  });
  CHECK(codes == std::vector<int>(5, 0));
  auto all = peaks.to_vector();
  REQUIRE(all.size() == 5);
  CHECK(*std::max_element(all.begin(), all.end()) <= 2);
  CHECK(*std::min_element(all.begin(), all.end()) >= 1);
  CHECK(d.get("n") == 0);
  CHECK(s.value() == 2);
}

TEST_CASE("semaphore: waiters are served in arrival order", "[semaphore][process]") {
  auto mgr = Manager::spawn();
  auto s = mgr.semaphore("S", 0);
  auto order = mgr.list<int>("order");
  std::vector<pid_t> kids;
  for (int i = 0; i < 5; ++i) {
    kids.push_back(test::fork_child([&, i] {
      s.acquire();
      order.append(i);
      s.release();  // the next waiter is granted only after this append
    }));
    REQUIRE(test::wait_parked(mgr, "S", static_cast<std::uint64_t>(i + 1)));
  }
  s.release();
  for (pid_t p : kids) CHECK(test::wait_child(p) == 0);
  CHECK(order.to_vector() == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("semaphore: session-aware, kill -9 of a holder returns its permits within 100 ms",
          "[semaphore][process]") {
  auto mgr = Manager::spawn();
  const SemaphoreOptions aware{.session_aware = true};
  for (std::string kind : {"semaphore", "bounded_semaphore"}) {
    DYNAMIC_SECTION(kind) {
      detail::SemaphoreBase s = kind == "semaphore"
                                    ? detail::SemaphoreBase(mgr.semaphore("S", 2, aware))
                                    : detail::SemaphoreBase(mgr.bounded_semaphore("S", 2, aware));
      bool got = false;
      auto took = test::time_to_take_after_kill(
          mgr, "S", 1,
          [&] {
            s.acquire();
            s.acquire();
          },
          [&] {
            got = s.try_acquire_for(10s);
            if (got) s.release();
          });
      CHECK(got);
      CHECK(took < 100ms);
      CHECK(s.value() == 2);  // both permits back, no more
      // Only a holder releases, and only what it holds.
      CHECK_THROWS_AS(s.release(), StateError);
      s.acquire();
      CHECK_THROWS_AS(s.release(2), StateError);
      s.release();
      CHECK(s.value() == 2);
    }
  }
}

TEST_CASE("semaphore: counts like Python's, a dead worker's permit stays taken until released",
          "[semaphore][process]") {
  auto mgr = Manager::spawn();
  // CPython's test: a worker acquires BoundedSemaphore(1) and exits; the
  // parent's release() brings the value back to 1 with no error.
  auto b = mgr.bounded_semaphore("B", 1);
  REQUIRE(test::run_children(1, [&](int) { b.acquire(); }) == std::vector<int>{0});
  CHECK(b.value() == 0);
  b.release();
  CHECK(b.value() == 1);
  CHECK_THROWS_AS(b.release(), ValueError);

  // A plain one: the worker's permit stays taken, and a release from
  // another process gives it back exactly once.
  auto s = mgr.semaphore("S", 1);
  REQUIRE(test::run_children(1, [&](int) { s.acquire(); }) == std::vector<int>{0});
  CHECK(s.value() == 0);
  CHECK_FALSE(s.try_acquire());
  REQUIRE(test::run_children(1, [&](int) { s.release(); }) == std::vector<int>{0});
  CHECK(s.value() == 1);

  // Reopening with other options is a TypeMismatch.
  CHECK_THROWS_AS(mgr.semaphore("S", 1, {.session_aware = true}), TypeMismatch);
}

TEST_CASE("semaphore: bad input gets clear errors", "[semaphore]") {
  auto mgr = Manager::spawn();
  CHECK_THROWS_AS(mgr.semaphore("neg", -1), ValueError);
  CHECK_THROWS_AS(mgr.bounded_semaphore("neg", -1), ValueError);
  // The server checks too.
  Bytes negative;
  encode_into(negative, std::int64_t{-1}, false);
  CHECK_THROWS_AS(detail::open_object(*mgr.core(), "neg", Kind::semaphore, "semaphore",
                                      ValueCode::opaque, negative),
                  ValueError);
  auto s = mgr.semaphore("S", 1);
  CHECK_THROWS_AS(s.try_acquire_for(-1ms), ValueError);
  auto& core = *mgr.core();
  CHECK_THROWS_AS((core.call<detail::op::SemAcquire>(s.id(), std::int64_t{-5})), ValueError);
  CHECK(s.value() == 1);
  CHECK_THROWS_AS(mgr.semaphore("S", 2), TypeMismatch);
  CHECK_THROWS_AS(mgr.bounded_semaphore("S", 1), TypeMismatch);
  CHECK_THROWS_AS(mgr.lock("S"), TypeMismatch);
  CHECK(mgr.semaphore("S", 1).value() == 1);
}
