#include <catch2/catch.hpp>
#include <future>
#include <mpshare/mpshare.hpp>
#include <thread>

#include "support.hpp"
#include "sync_support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

TEST_CASE("event: set, clear, is_set, wait, wait_for", "[event]") {
  auto mgr = Manager::spawn();
  auto e = mgr.event("E");
  CHECK_FALSE(e.is_set());
  CHECK_FALSE(e.wait_for(0ms));
  e.set();
  CHECK(e.is_set());
  e.wait();
  CHECK(e.wait_for(0ms));
  e.clear();
  CHECK_FALSE(e.is_set());
  for (auto want : {20ms, 100ms}) {
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(e.wait_for(want));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= want);
    CHECK(took < want + 500ms);
  }
}

TEST_CASE("event: 3 processes waiting are all released by one set()", "[event][process]") {
  auto mgr = Manager::spawn();
  auto e = mgr.event("E");
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) kids.push_back(test::fork_child([&] { e.wait(); }));
  REQUIRE(test::wait_parked(mgr, "E", 3));
  e.set();
  for (pid_t p : kids) CHECK(test::wait_child(p, 10s) == 0);
  CHECK(test::object_size(mgr, "E") == 0);
}

TEST_CASE("event: a killed waiter is dropped, the others still released", "[event][process]") {
  auto mgr = Manager::spawn();
  auto e = mgr.event("E");
  pid_t doomed = test::fork_child([&] { e.wait(); });
  pid_t other = test::fork_child([&] { e.wait(); });
  REQUIRE(test::wait_parked(mgr, "E", 2));
  ::kill(doomed, SIGKILL);
  CHECK(test::wait_child(doomed) == 128 + SIGKILL);
  REQUIRE(test::wait_parked(mgr, "E", 1));
  e.set();
  CHECK(test::wait_child(other, 10s) == 0);
}

TEST_CASE("event: a waiter gets ConnectionLost promptly when the server dies", "[event]") {
  auto mgr = Manager::spawn();
  auto e = mgr.event("E");
  auto waiter = std::async(std::launch::async, [&] { e.wait(); });
  REQUIRE(test::wait_parked(mgr, "E", 1));
  auto killed = std::chrono::steady_clock::now();
  ::kill(mgr.server_pid(), SIGKILL);
  CHECK_THROWS_AS(waiter.get(), ConnectionLost);
  CHECK(std::chrono::steady_clock::now() - killed < 2s);
}

TEST_CASE("event: bad input gets clear errors", "[event]") {
  auto mgr = Manager::spawn();
  auto e = mgr.event("E");
  CHECK_THROWS_AS(e.wait_for(-1ms), ValueError);
  auto& core = *mgr.core();
  CHECK_THROWS_AS((core.call<detail::op::EventWait>(e.id(), std::int64_t{-7})), ValueError);
  CHECK_THROWS_AS(mgr.lock("E"), TypeMismatch);
}
