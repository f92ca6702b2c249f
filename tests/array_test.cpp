#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>
#include <numeric>

#include "support.hpp"

using namespace mpshare;

namespace {

Manager rpc_client(const Manager& mgr) {
  ConnectOptions opts;
  opts.map_shared_memory = false;
  return Manager::connect(mgr.address(), mgr.key(), opts);
}

void check_basic_ops(Array<std::int32_t> a) {
  CHECK(a.size() == 3);
  CHECK(a.to_vector() == std::vector<std::int32_t>{1, 2, 3});
  a.store(0, 10);
  CHECK(a.load(0) == 10);
  CHECK(a[0] == 10);
  CHECK(a.fetch_add(1, 5) == 2);
  CHECK(a.fetch_sub(2, 1) == 3);
  CHECK(a.exchange(2, 4) == 2);
  CHECK(a.compare_exchange(2, 4, 6));
  CHECK_FALSE(a.compare_exchange(2, 4, 8));
  CHECK(a.to_vector() == std::vector<std::int32_t>{10, 7, 6});
  CHECK_THROWS_AS(a.load(3), IndexError);
  CHECK_THROWS_AS(a.store(100, 1), IndexError);
  int sum = a.with_lock([](std::span<std::int32_t> s) {
    for (auto& x : s) x += 1;
    return std::accumulate(s.begin(), s.end(), 0);
  });
  CHECK(sum == 26);
  CHECK(a.to_vector() == std::vector<std::int32_t>{11, 8, 7});
  a.with_lock([](std::span<std::int32_t> s) {
    std::ranges::copy(std::vector{1, 2, 3}, s.begin());
  });
}

}  // namespace

TEST_CASE("array: ops are the same mapped and by RPC, reopen checks the layout", "[array]") {
  auto mgr = Manager::spawn();
  auto a = mgr.array<std::int32_t>("a", {1, 2, 3});
  CHECK(a.is_mapped());
  check_basic_ops(a);
  auto remote = rpc_client(mgr);
  auto r = remote.array<std::int32_t>("a", {7, 7, 7});  // opens the existing one
  CHECK_FALSE(r.is_mapped());
  check_basic_ops(r);

  auto z = mgr.array<double>("z", 1024);
  CHECK(z.size() == 1024);
  CHECK(z.load(1023) == 0.0);
  CHECK_THROWS_AS(mgr.array<double>("z", 1000), TypeMismatch);
  CHECK_THROWS_AS(mgr.array<float>("z", 1024), TypeMismatch);
  CHECK_THROWS_AS(mgr.value<double>("z"), TypeMismatch);
  auto objects = mgr.objects();
  CHECK(objects.size() == 2);
}

TEST_CASE("array: 3 processes each add 1 to their own index 100,000 times under the lock",
          "[array]") {
  auto mgr = Manager::spawn();
  auto a = mgr.array<std::int32_t>("counts", {0, 0, 0});
  auto codes = mpshare::test::run_children(3, [&](int i) {
    for (int k = 0; k < 100000; ++k) a.with_lock([&](std::span<std::int32_t> s) { s[i] += 1; });
  });
  CHECK(codes == std::vector<int>{0, 0, 0});
  CHECK(a.to_vector() == std::vector<std::int32_t>{100000, 100000, 100000});
}

TEST_CASE("array: RPC and mapped clients share the lock", "[array]") {
  auto mgr = Manager::spawn();
  auto a = mgr.array<std::int64_t>("a", 2);
  auto codes = mpshare::test::run_children(3, [&](int i) {
    if (i < 2) {
      for (int k = 0; k < 20000; ++k)
        a.with_lock([](std::span<std::int64_t> s) {
          s[0] += 1;
          s[1] = s[0];
        });
      return;
    }
    auto remote = rpc_client(mgr);
    auto r = remote.array<std::int64_t>("a", 2);
    for (int k = 0; k < 300; ++k)
      r.with_lock([](std::span<std::int64_t> s) {
        s[0] += 1;
        s[1] = s[0];
      });
  });
  CHECK(codes == std::vector<int>{0, 0, 0});
  CHECK(a.to_vector() == std::vector<std::int64_t>{40300, 40300});
}

TEST_CASE("array: slice and store_slice, mapped and by RPC", "[array]") {
  auto mgr = Manager::spawn();
  auto a = mgr.array<std::int64_t>("a", {0, 1, 2, 3, 4});
  auto remote = rpc_client(mgr);
  auto r = remote.array<std::int64_t>("a", 5);
  for (Array<std::int64_t>* x : {&a, &r}) {
    x->store_slice(0, {0, 1, 2, 3, 4});
    CHECK(x->slice(1, 3) == std::vector<std::int64_t>{1, 2});
    CHECK(x->slice(3, 100) == std::vector<std::int64_t>{3, 4});  // clamped
    CHECK(x->slice(4, 2).empty());
    x->store_slice(3, std::vector<std::int64_t>{30, 40});
    CHECK(x->to_vector() == std::vector<std::int64_t>{0, 1, 2, 30, 40});
    CHECK_THROWS_AS(x->store_slice(4, {7, 8}), IndexError);
    CHECK_THROWS_AS(x->store_slice(6, std::vector<std::int64_t>{}), IndexError);
    CHECK(x->to_vector() == std::vector<std::int64_t>{0, 1, 2, 30, 40});  // unchanged
  }
  // The server checks too.
  auto& core = *remote.core();
  CHECK_THROWS_AS(
      (core.call<detail::op::SharedReadRange>(r.id(), std::uint64_t{3}, std::uint64_t{3})),
      IndexError);
  CHECK_THROWS_AS(
      (core.call<detail::op::SharedWriteRange>(r.id(), std::uint64_t{0}, Bytes(3, 'x'))),
      ValueError);
}

TEST_CASE("array: a slice never sees half of a store_slice from another process",
          "[array][process]") {
  struct Pair {
    std::int64_t a, b;  // 16 bytes: not lock-free
  };
  auto mgr = Manager::spawn();
  auto ints = mgr.array<std::int32_t>("ints", 64);
  auto pairs = mgr.array<Pair>("pairs", 8);
  test::Pipe stop;
  pid_t writer = test::fork_child([&] {
    for (std::int32_t k = 1; k <= 2000; ++k) {
      ints.store_slice(0, std::vector<std::int32_t>(64, k));
      pairs.store_slice(0, std::vector<Pair>(8, Pair{k, -k}));
    }
    stop.write("s");
  });
  auto remote = rpc_client(mgr);
  auto rints = remote.array<std::int32_t>("ints", 64);
  bool torn = false;
  for (int round = 0; round < 200 && !torn; ++round) {
    for (auto v : {ints.slice(0, 64), rints.slice(0, 64)})
      torn |= std::count(v.begin(), v.end(), v.front()) != 64;
    auto p = pairs.slice(0, 8);
    for (auto& x : p) torn |= x.a != p.front().a || x.b != -x.a;
  }
  CHECK(stop.read(1) == "s");
  CHECK(test::wait_child(writer) == 0);
  CHECK_FALSE(torn);
  CHECK(ints.slice(10, 12) == std::vector<std::int32_t>{2000, 2000});
}
