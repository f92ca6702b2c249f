#include <catch2/catch.hpp>
#include <future>
#include <mpshare/mpshare.hpp>
#include <mutex>
#include <thread>

#include "support.hpp"
#include "sync_support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

// Runs fn on another thread, hence through another connection; rethrows
// what it throws.
template <class F>
auto elsewhere(F fn) {
  return std::async(std::launch::async, fn).get();
}

}  // namespace

TEST_CASE("lock: acquire, release, locked, try_acquire, tokens strictly increase", "[lock]") {
  auto mgr = Manager::spawn();
  auto lock = mgr.lock("L");
  CHECK_FALSE(lock.locked());
  Grant g1 = lock.acquire();
  CHECK(g1.token > 0);
  CHECK_FALSE(g1.previous_owner_died);
  CHECK(lock.locked());
  CHECK(elsewhere([&] { return lock.try_acquire(); }) == std::nullopt);
  CHECK(lock.try_acquire() == std::nullopt);    // not recursive
  CHECK_THROWS_AS(lock.acquire(), StateError);  // would wait forever
  CHECK_THROWS_AS(elsewhere([&] {
                    lock.release();
                    return 0;
                  }),
                  StateError);  // another connection does not own it
  lock.release();
  CHECK_FALSE(lock.locked());
  CHECK_THROWS_AS(lock.release(), StateError);
  auto g2 = elsewhere([&] {
    auto g = lock.try_acquire();
    lock.release();
    return g;
  });
  REQUIRE(g2);
  CHECK(g2->token > g1.token);
  Grant g3 = lock.acquire();
  CHECK(g3.token > g2->token);
  lock.release();

  // Removed and created again under the same name: tokens still never repeat.
  mgr.remove("L");
  auto again = mgr.lock("L");
  CHECK(again.acquire().token > g3.token);
}

TEST_CASE("lock: std::lock_guard, unique_lock, scoped_lock, try_lock_for/until", "[lock]") {
  auto mgr = Manager::spawn();
  auto a = mgr.lock("a");
  auto b = mgr.rlock("b");
  {
    std::lock_guard g(a);
    CHECK(a.locked());
  }
  CHECK_FALSE(a.locked());
  {
    std::scoped_lock both(a, b);
    CHECK(a.locked());
    CHECK(b.locked());
  }
  CHECK_FALSE(a.locked());
  CHECK_FALSE(b.locked());
  {
    std::unique_lock lk(a, std::defer_lock);
    CHECK(lk.try_lock_for(10ms));
    CHECK(elsewhere([&] { return a.try_lock_until(std::chrono::steady_clock::now() + 10ms); }) ==
          false);
  }
  CHECK(a.try_lock());
  a.unlock();
}

TEST_CASE("rlock: recursion levels, only the owner releases", "[lock]") {
  auto mgr = Manager::spawn();
  auto r = mgr.rlock("R");
  Grant g1 = r.acquire();
  Grant g2 = r.acquire();
  CHECK(g2.token == g1.token);  // same holding, one more level
  r.release();
  CHECK(r.locked());
  CHECK(elsewhere([&] { return r.try_acquire(); }) == std::nullopt);
  CHECK_THROWS_AS(elsewhere([&] {
                    r.release();
                    return 0;
                  }),
                  StateError);
  r.release();
  CHECK_FALSE(r.locked());
  CHECK_THROWS_AS(r.release(), StateError);
}

TEST_CASE("lock: try_acquire_for returns within a bounded error of its timeout", "[lock]") {
  auto mgr = Manager::spawn();
  auto lock = mgr.lock();
  lock.acquire();
  for (auto want : {20ms, 100ms}) {
    auto took = elsewhere([&] {
      auto start = std::chrono::steady_clock::now();
      auto g = lock.try_acquire_for(want);
      CHECK_FALSE(g);
      return std::chrono::steady_clock::now() - start;
    });
    CHECK(took >= want);
    CHECK(took < want + 500ms);
  }
}

TEST_CASE("lock: 5 processes x 10,000 get-then-set increments end at exactly 50,000",
          "[lock][process]") {
  auto mgr = Manager::spawn();
  auto lock = mgr.lock("counter-lock");
  auto d = mgr.dict<std::string, std::int64_t>("counter");
  d.set("n", 0);
  auto codes = test::run_children(5, [&](int) {
    for (int i = 0; i < 10000; ++i) {
      std::lock_guard g(lock);
      d.set("n", d.get("n") + 1);
    }
  });
  CHECK(codes == std::vector<int>(5, 0));
  CHECK(d.get("n") == 50000);
}

TEST_CASE("lock: waiters are served in arrival order", "[lock][process]") {
  auto mgr = Manager::spawn();
  for (std::string kind : {"lock", "rlock"}) {
    DYNAMIC_SECTION(kind) {
      detail::LockBase lock =
          kind == "lock" ? detail::LockBase(mgr.lock("L")) : detail::LockBase(mgr.rlock("L"));
      auto order = mgr.list<int>("order");
      lock.acquire();
      std::vector<pid_t> kids;
      for (int i = 0; i < 5; ++i) {
        kids.push_back(test::fork_child([&, i] {
          std::lock_guard g(lock);
          order.append(i);
        }));
        REQUIRE(test::wait_parked(mgr, "L", static_cast<std::uint64_t>(i + 1)));
      }
      lock.release();
      for (pid_t p : kids) CHECK(test::wait_child(p) == 0);
      CHECK(order.to_vector() == std::vector<int>{0, 1, 2, 3, 4});
    }
  }
}

TEST_CASE("lock: kill -9 of the holder frees it within 100 ms, previous_owner_died",
          "[lock][process]") {
  auto mgr = Manager::spawn();
  for (std::string kind : {"lock", "rlock"}) {
    DYNAMIC_SECTION(kind) {
      detail::LockBase lock =
          kind == "lock" ? detail::LockBase(mgr.lock("L")) : detail::LockBase(mgr.rlock("L"));
      std::optional<Grant> got;
      auto took = test::time_to_take_after_kill(
          mgr, "L", 1,
          [&] {
            lock.acquire();
            if (kind == "rlock") lock.acquire();
          },
          [&] {
            got = lock.try_acquire_for(10s);
            if (got) lock.release();
          });
      REQUIRE(got);
      CHECK(got->previous_owner_died);
      CHECK(took < 100ms);
      CHECK_FALSE(lock.acquire().previous_owner_died);  // reported once
      lock.release();
    }
  }
}

TEST_CASE("lock: a waiter gets ConnectionLost promptly when the server dies", "[lock]") {
  auto mgr = Manager::spawn();
  auto lock = mgr.lock("L");
  lock.acquire();
  auto waiter = std::async(std::launch::async, [&] { lock.acquire(); });
  REQUIRE(test::wait_parked(mgr, "L", 1));
  auto killed = std::chrono::steady_clock::now();
  ::kill(mgr.server_pid(), SIGKILL);
  CHECK_THROWS_AS(waiter.get(), ConnectionLost);
  CHECK(std::chrono::steady_clock::now() - killed < 2s);
}

TEST_CASE("lock: bad input gets clear errors", "[lock]") {
  auto mgr = Manager::spawn();
  auto lock = mgr.lock("L");
  CHECK_THROWS_AS(lock.try_acquire_for(-1ms), ValueError);
  // The server checks too.
  auto& core = *mgr.core();
  CHECK_THROWS_AS((core.call<detail::op::LockAcquire>(lock.id(), std::int64_t{-2})), ValueError);
  CHECK_FALSE(lock.locked());
  CHECK_THROWS_AS(mgr.rlock("L"), TypeMismatch);
  CHECK_THROWS_AS(mgr.event("L"), TypeMismatch);
  CHECK_THROWS_AS((mgr.dict<int, int>("L")), TypeMismatch);
}

TEST_CASE("lock: owner() names the holding process and connection", "[lock][process]") {
  auto mgr = Manager::spawn();
  auto lock = mgr.lock("L");
  auto rlock = mgr.rlock("R");
  CHECK_FALSE(lock.owner().has_value());
  test::Pipe held;
  pid_t child = test::fork_child([&] {
    lock.acquire();
    rlock.acquire();
    rlock.acquire();
    held.write("h");
    ::pause();
  });
  held.read(1);
  auto o = lock.owner();
  REQUIRE(o.has_value());
  CHECK(o->pid == child);
  CHECK(o->levels == 1);
  auto r = rlock.owner();
  REQUIRE(r.has_value());
  CHECK(r->pid == child);
  CHECK(r->session == o->session);  // the child's one thread, one connection
  CHECK(r->levels == 2);
  ::kill(child, SIGKILL);
  test::wait_child(child);
  // Released with its owner's connection; then this process holds it.
  CHECK(lock.try_acquire_for(10s).value().previous_owner_died);
  auto mine = lock.owner();
  REQUIRE(mine.has_value());
  CHECK(mine->pid == ::getpid());
  CHECK(mine->session != o->session);
  lock.release();
  // Over TCP the server cannot know the process id.
  SpawnOptions with_tcp;
  with_tcp.extra_listen = {"tcp://127.0.0.1:0"};
  auto tcp = Manager::spawn(with_tcp);
  auto remote = Manager::connect(tcp.addresses().at(1), tcp.key());
  auto tl = remote.lock("T");
  tl.acquire();
  CHECK(tcp.lock("T").owner().value().pid == 0);
  tl.release();
}
