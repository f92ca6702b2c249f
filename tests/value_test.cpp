#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mpshare/mpshare.hpp>
#include <string>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

struct Big {
  std::int64_t v[32];
};
static_assert(!Value<Big>::lock_free);

// A client of the same server that does not map shared memory (RPC only).
Manager rpc_client(const Manager& mgr) {
  ConnectOptions opts;
  opts.map_shared_memory = false;
  return Manager::connect(mgr.address(), mgr.key(), opts);
}

bool maps_contain(const std::string& what) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(what) != std::string::npos) return true;
  return false;
}

void check_basic_ops(Value<std::int64_t> v) {
  CHECK(v.load() == 5);
  v.store(7);
  CHECK(v.load() == 7);
  CHECK(v.exchange(8) == 7);
  CHECK(v.compare_exchange(8, 9));
  CHECK_FALSE(v.compare_exchange(8, 10));
  CHECK(v.fetch_add(3) == 9);
  CHECK(v.fetch_sub(2) == 12);
  CHECK(v.load() == 10);
  v.with_lock([](std::int64_t& x) { x *= 2; });
  CHECK(v.with_lock([](std::int64_t& x, bool owner_died) {
    CHECK_FALSE(owner_died);
    return x + 1;
  }) == 21);
  {
    auto lock = v.get_lock();
    std::lock_guard g(lock);
    v.store(v.load() + 1);  // the lock is recursive
  }
  CHECK(v.load() == 21);
  v.store(5);
}

}  // namespace

TEST_CASE("value: ops are the same mapped and by RPC", "[value]") {
  auto mgr = Manager::spawn();
  auto v = mgr.value<std::int64_t>("hits", 5);
  STATIC_REQUIRE(Value<std::int64_t>::lock_free);
  CHECK(v.is_mapped());
  check_basic_ops(v);

  auto remote = rpc_client(mgr);
  auto r = remote.value<std::int64_t>("hits", 99);  // opens the existing one
  CHECK_FALSE(r.is_mapped());
  check_basic_ops(r);
  r.store(41);
  CHECK(v.fetch_add(1) == 41);
  CHECK(r.load() == 42);

  auto d = mgr.value<double>("d", 0.5);
  CHECK(d.fetch_add(0.25) == 0.5);
  CHECK(remote.value<double>("d").fetch_add(1.0) == 0.75);
  CHECK(d.load() == 1.75);

  CHECK_THROWS_AS(mgr.value<std::int32_t>("hits"), TypeMismatch);
  CHECK_THROWS_AS(mgr.array<std::int64_t>("hits", 1), TypeMismatch);
}

TEST_CASE("value: 4 processes x 1,000,000 fetch_add(1) give exactly 4,000,000", "[value]") {
  auto mgr = Manager::spawn();
  auto v = mgr.value<std::int64_t>("n", 0);
  auto codes = mpshare::test::run_children(4, [&](int) {
    if (!v.is_mapped()) throw std::runtime_error("not mapped");
    for (int i = 0; i < 1000000; ++i) v.fetch_add(1);
  });
  CHECK(codes == std::vector<int>{0, 0, 0, 0});
  CHECK(v.load() == 4000000);
}

TEST_CASE("value: fetch_add through clients that do not map the memory", "[value]") {
  auto mgr = Manager::spawn();
  auto v = mgr.value<std::int64_t>("n", 0);
  auto codes = mpshare::test::run_children(4, [&](int i) {
    if (i == 0) {  // one local process in the mix
      for (int k = 0; k < 20000; ++k) v.fetch_add(1);
      return;
    }
    auto remote = rpc_client(mgr);
    auto r = remote.value<std::int64_t>("n");
    if (r.is_mapped()) throw std::runtime_error("mapped");
    for (int k = 0; k < 20000; ++k) r.fetch_add(1);
  });
  CHECK(codes == std::vector<int>{0, 0, 0, 0});
  CHECK(v.load() == 80000);
}

TEST_CASE("value: a Big value read while others write it under the lock is never torn", "[value]") {
  auto mgr = Manager::spawn();
  auto v = mgr.value<Big>("big", Big{});
  auto writer = [&](Value<Big> w, std::int64_t base) {
    for (std::int64_t k = 1; k <= 2000; ++k)
      w.with_lock([&](Big& b) {
        for (auto& x : b.v) x = base + k;
      });
  };
  auto reader = [&](Value<Big> r) {
    for (int k = 0; k < 3000; ++k) {
      Big b = r.load();
      for (auto x : b.v)
        if (x != b.v[0]) throw std::runtime_error("torn read");
    }
  };
  auto codes = mpshare::test::run_children(4, [&](int i) {
    if (i == 0) return writer(v, 0);
    if (i == 1) return reader(v);
    auto remote = rpc_client(mgr);
    auto r = remote.value<Big>("big");
    if (i == 2) return writer(r, 1000000);
    reader(r);
  });
  CHECK(codes == std::vector<int>{0, 0, 0, 0});
  Big last = v.load();
  for (auto x : last.v) CHECK(x == last.v[0]);
}

TEST_CASE("value: a process killed inside with_lock blocks no one, the next is told", "[value]") {
  auto mgr = Manager::spawn();
  auto v = mgr.value<std::int64_t>("v", 0);
  auto remote = rpc_client(mgr);
  auto r = remote.value<std::int64_t>("v");

  auto kill_inside = [&](Value<std::int64_t> in) {
    mpshare::test::Pipe inside, never;
    pid_t child = mpshare::test::fork_child([&] {
      in.with_lock([&](std::int64_t& x) {
        x = 7;
        inside.write("in");
        never.read(1, 60s);  // blocks until killed
      });
    });
    inside.read(2);
    ::kill(child, SIGKILL);
    CHECK(mpshare::test::wait_child(child) == 128 + SIGKILL);
  };

  SECTION("a mapped holder dies; a mapped and an RPC client recover") {
    kill_inside(v);
    auto start = std::chrono::steady_clock::now();
    bool died = v.with_lock([](std::int64_t& x, bool owner_died) {
      x += 1;
      return owner_died;
    });
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(died);
    CHECK(v.load() == 8);

    kill_inside(v);
    start = std::chrono::steady_clock::now();
    died = r.with_lock([](std::int64_t&, bool owner_died) { return owner_died; });
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(died);
  }
  SECTION("an RPC holder dies; the server releases the lock at once") {
    kill_inside(r);
    auto start = std::chrono::steady_clock::now();
    bool died = v.with_lock([](std::int64_t&, bool owner_died) { return owner_died; });
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK_FALSE(died);     // released by the server, not abandoned
    CHECK(v.load() == 0);  // the RPC holder's copy was never written back
  }
}

TEST_CASE("value: nothing is left behind when the server is killed", "[value]") {
  std::string dir;
  {
    auto mgr = Manager::spawn();
    dir = std::filesystem::path(mgr.address().substr(5)).parent_path();
    {
      auto v = mgr.value<std::int64_t>("v", 42);
      auto a = mgr.array<double>("a", {1.0, 2.0});
      REQUIRE(v.is_mapped());
      REQUIRE(a.is_mapped());
      REQUIRE(mgr.server_pid() > 0);
      ::kill(mgr.server_pid(), SIGKILL);
      REQUIRE(mpshare::test::wait_gone(mgr.server_pid(), 10s));
      for (const auto& e : std::filesystem::directory_iterator("/dev/shm"))
        CHECK(e.path().filename().string().find("mpshare") == std::string::npos);
      // The mapping is this process's own: still readable, freed on unmap.
      CHECK(v.load() == 42);
      CHECK(a.to_vector() == std::vector<double>{1.0, 2.0});
      CHECK(maps_contain("memfd:mpshare-value"));
    }
    CHECK_FALSE(maps_contain("memfd:mpshare-value"));
    CHECK_FALSE(maps_contain("memfd:mpshare-array"));
  }
  CHECK_FALSE(std::filesystem::exists(dir));
}
