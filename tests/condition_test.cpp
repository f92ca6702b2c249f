#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>
#include <mutex>
#include <thread>

#include "support.hpp"
#include "sync_support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

TEST_CASE("condition: wait and notify need the lock, wait_for times out holding it",
          "[condition]") {
  auto mgr = Manager::spawn();
  auto c = mgr.condition("C");
  std::unique_lock<Condition> none(c, std::defer_lock);
  CHECK_THROWS_AS(c.wait(none), StateError);
  CHECK_THROWS_AS(c.notify(), StateError);
  std::unique_lock lk(c);
  CHECK(c.notify() == 0);
  CHECK(c.notify_all() == 0);
  for (auto want : {20ms, 100ms}) {
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(c.wait_for(lk, want));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= want);
    CHECK(took < want + 500ms);
    CHECK(c.locked());
  }
  CHECK_FALSE(c.wait_for(lk, 0ms));
  CHECK_FALSE(c.wait_for(lk, 20ms, [] { return false; }));
  CHECK(c.wait_for(lk, 20ms, [] { return true; }));
  lk.unlock();
  CHECK_FALSE(c.locked());
}

TEST_CASE("condition: notify(1) wakes exactly one waiter, notify_all the rest",
          "[condition][process]") {
  auto mgr = Manager::spawn();
  auto c = mgr.condition("C");
  auto woken = mgr.list<int>("woken");
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) {
    kids.push_back(test::fork_child([&, i] {
      std::unique_lock lk(c);
      c.wait(lk);
      woken.append(i);
    }));
    REQUIRE(test::wait_parked(mgr, "C", static_cast<std::uint64_t>(i + 1)));
  }
  {
    std::unique_lock lk(c);
    CHECK(c.notify(1) == 1);
  }
  CHECK(test::wait_child(kids[0], 10s) == 0);  // the oldest waiter
  CHECK(woken.to_vector() == std::vector<int>{0});
  CHECK(test::object_size(mgr, "C") == 2);  // the others still wait
  {
    std::unique_lock lk(c);
    CHECK(c.notify_all() == 2);
  }
  CHECK(test::wait_child(kids[1], 10s) == 0);
  CHECK(test::wait_child(kids[2], 10s) == 0);
  CHECK(woken.size() == 3);
}

TEST_CASE("condition: wait with a predicate across processes", "[condition][process]") {
  auto mgr = Manager::spawn();
  auto c = mgr.condition("C");
  auto d = mgr.dict<std::string, int>("state");
  pid_t producer = test::fork_child([&] {
    for (int i = 1; i <= 5; ++i) {
      std::unique_lock lk(c);
      d.set("ready", i);
      c.notify_all();
    }
  });
  {
    std::unique_lock lk(c);
    c.wait(lk, [&] { return d.get_or("ready", 0) == 5; });
    CHECK(d.get("ready") == 5);
    CHECK(c.locked());
  }
  CHECK(test::wait_child(producer) == 0);
}

TEST_CASE("condition: bound to an RLock, wait restores every level", "[condition]") {
  auto mgr = Manager::spawn();
  auto r = mgr.rlock("R");
  auto c = mgr.condition("C", r);
  std::unique_lock lk(c);  // one level, through the condition
  r.acquire();             // a second level, through the lock
  CHECK(r.locked());
  std::thread other([&] {
    // The wait below releases both levels, so this can take the lock.
    auto g = r.try_acquire_for(10s);
    CHECK(g);
    std::unique_lock olk(c);  // recursive: same connection
    c.notify();
    olk.unlock();
    r.release();
  });
  CHECK(c.wait_for(lk, 10s));
  other.join();
  r.release();
  lk.unlock();
  CHECK_FALSE(r.locked());
  CHECK_THROWS_AS(r.release(), StateError);

  auto l = mgr.lock("L");
  auto cl = mgr.condition("CL", l);
  {
    std::unique_lock lk2(cl);
    CHECK(l.locked());
    CHECK_FALSE(cl.wait_for(lk2, 10ms));
    CHECK(l.locked());
  }
  CHECK_FALSE(l.locked());
}

TEST_CASE("condition: a killed waiter is dropped, a killed holder frees the lock",
          "[condition][process]") {
  auto mgr = Manager::spawn();
  auto c = mgr.condition("C");
  pid_t waiter = test::fork_child([&] {
    std::unique_lock lk(c);
    c.wait(lk);
  });
  REQUIRE(test::wait_parked(mgr, "C", 1));
  ::kill(waiter, SIGKILL);
  CHECK(test::wait_child(waiter) == 128 + SIGKILL);
  REQUIRE(test::wait_parked(mgr, "C", 0));

  std::optional<Grant> got;
  auto took = test::time_to_take_after_kill(
      mgr, "C", 0, [&] { c.acquire(); },
      [&] {
        got = c.try_acquire_for(10s);
        if (got) c.release();
      });
  REQUIRE(got);
  CHECK(got->previous_owner_died);
  CHECK(took < 100ms);
}

TEST_CASE("condition: a process that took the bound lock through the condition and died frees it",
          "[condition][process]") {
  auto mgr = Manager::spawn();
  auto l = mgr.lock("L");
  auto c = mgr.condition("C", l);
  const pid_t holder = test::fork_child([&] {
    c.acquire();  // through the Condition only; exits holding it
  });
  CHECK(test::wait_child(holder) == 0);
  const std::optional<Grant> got = l.try_acquire_for(10s);
  REQUIRE(got);
  CHECK(got->previous_owner_died);
  l.release();
}

TEST_CASE("condition: bad input gets clear errors", "[condition]") {
  auto mgr = Manager::spawn();
  auto c = mgr.condition("C");
  std::unique_lock lk(c);
  CHECK_THROWS_AS(c.wait_for(lk, -1ms), ValueError);
  auto& core = *mgr.core();
  CHECK_THROWS_AS((core.call<detail::op::CondWait>(c.id(), std::int64_t{-3})), ValueError);
  CHECK(c.locked());
  auto l = mgr.lock("L");
  CHECK_THROWS_AS(mgr.condition("C", l), TypeMismatch);
  auto bound = mgr.condition("B", l);
  CHECK_THROWS_AS(mgr.condition("B"), TypeMismatch);
  CHECK_THROWS_AS(mgr.lock("C"), TypeMismatch);
  mgr.remove("L");
  CHECK_THROWS_AS(bound.acquire(), NoSuchObject);
}
