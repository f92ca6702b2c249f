#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>

#include "support.hpp"

using namespace mpshare;

TEST_CASE("batch: results come back in order, typed", "[batch]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("d");
  Batch b(mgr);
  CHECK(b.empty());
  auto s1 = b.set(d, std::string("a"), std::int64_t{1});
  auto g1 = b.get(d, std::string("a"));
  auto s2 = b.set(d, std::string("a"), std::int64_t{2});
  auto g2 = b.get(d, std::string("a"));
  auto inc = b.increment(d, std::string("a"), std::int64_t{40});
  auto f = b.find(d, std::string("zz"));
  auto c = b.contains(d, std::string("a"));
  auto e = b.erase(d, std::string("a"));
  auto g3 = b.find(d, std::string("a"));
  CHECK(b.size() == 9);
  CHECK_FALSE(g1.ready());
  CHECK_THROWS_AS(g1.get(), StateError);
  b.run();
  CHECK(b.empty());
  CHECK(g1.ready());
  s1.get();
  s2.get();
  CHECK(g1.get() == 1);
  CHECK(g2.get() == 2);
  CHECK(inc.get() == 42);
  CHECK(f.get() == std::nullopt);
  CHECK(c.get());
  CHECK(e.get());
  CHECK(g3.get() == std::nullopt);
  CHECK(d.size() == 0);
}

TEST_CASE("batch: an item's error is its own, the others still apply", "[batch]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("d");
  auto l = mgr.list<std::string>("l");
  Batch b(mgr);
  auto missing = b.get(d, std::string("nope"));
  auto s = b.set(d, std::string("k"), std::int64_t{7});
  auto bad_index = b.at(l, 5);
  auto a = b.append(l, std::string("x"));
  auto popped = b.pop(l);
  auto empty_pop = b.pop(l);
  auto g = b.get(d, std::string("k"));
  b.run();
  CHECK(missing.failed());
  CHECK_THROWS_AS(missing.get(), KeyError);
  CHECK_FALSE(s.failed());
  CHECK_THROWS_AS(bad_index.get(), IndexError);
  a.get();
  CHECK(popped.get() == "x");
  CHECK_THROWS_AS(empty_pop.get(), IndexError);
  CHECK(g.get() == 7);
  // The connection is still in a good state for plain calls.
  CHECK(d.get("k") == 7);
  CHECK(l.size() == 0);
}

TEST_CASE("batch: mixed objects, raw ops, reuse after run", "[batch]") {
  auto mgr = Manager::spawn();
  auto d1 = mgr.dict<int, std::string>("d1");
  auto d2 = mgr.dict<std::string, double>("d2");
  auto l = mgr.list<int>();
  Batch b;  // takes its server from the first proxy
  b.set(d1, 1, std::string("one"));
  b.increment(d2, std::string("x"), 0.5);
  b.append(l, 10);
  b.append(l, 20);
  auto size = b.call<detail::op::ListSize>(l);
  auto keys = b.call<detail::op::DictKeys>(d1);
  b.run();
  CHECK(size.get() == 2);
  CHECK(keys.get().size() == 1);
  CHECK(d1.get(1) == "one");
  CHECK(d2.get("x") == 0.5);
  CHECK(l.to_vector() == std::vector<int>{10, 20});

  auto at0 = b.at(l, 0);
  auto x = b.increment(d2, std::string("x"), 1.0);
  b.run();
  CHECK(at0.get() == 10);
  CHECK(x.get() == 1.5);
  CHECK(size.get() == 2);  // earlier results stay valid
  b.run();                 // empty: nothing happens
}

TEST_CASE("batch: objects of another server are refused", "[batch]") {
  auto m1 = Manager::spawn();
  auto m2 = Manager::spawn();
  auto d1 = m1.dict<int, int>("d");
  auto d2 = m2.dict<int, int>("d");
  Batch b(m1);
  b.set(d1, 1, 1);
  CHECK_THROWS_AS(b.set(d2, 1, 1), ValueError);
  b.run();
  CHECK(d1.get(1) == 1);
  CHECK(d2.size() == 0);
}

TEST_CASE("batch: a frame above --max-frame fails its item, the next call reconnects", "[batch]") {
  SpawnOptions o;
  o.max_frame = 4096;
  auto mgr = Manager::spawn(o);
  auto d = mgr.dict<int, std::string>("d");
  Batch b(mgr);
  auto small = b.set(d, 1, std::string(100, 's'));
  auto big = b.set(d, 2, std::string(10000, 'b'));  // the server answers, then hangs up
  b.run();
  CHECK_NOTHROW(small.get());
  CHECK_THROWS_AS(big.get(), ProtocolError);
  CHECK(d.size() == 1);  // on a new connection
  CHECK(d.get(1) == std::string(100, 's'));
}

TEST_CASE("batch: 10,000 operations in one run", "[batch]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<int, std::string>("big");
  auto l = mgr.list<int>("seq");
  constexpr int n = 10000;
  Batch b(mgr);
  for (int i = 0; i < n; ++i) {
    b.set(d, i, std::string(i % 97, 'v'));
    b.append(l, i);
  }
  std::vector<BatchResult<std::string>> gets;
  for (int i = 0; i < n; i += 7) gets.push_back(b.get(d, i));
  b.run();
  for (std::size_t j = 0; j < gets.size(); ++j)
    REQUIRE(gets[j].get() == std::string(static_cast<int>(j * 7) % 97, 'v'));
  CHECK(d.size() == n);
  auto seq = l.to_vector();
  REQUIRE(seq.size() == n);
  for (int i = 0; i < n; ++i) REQUIRE(seq[i] == i);  // server applied them in order
}

TEST_CASE("batch: concurrent batches from forked children, and a batch filled before fork",
          "[batch]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("counts");
  auto l = mgr.list<int>("items");
  d.set("warm", 1);  // the parent's connection exists before fork

  Batch prefilled(mgr);
  prefilled.increment(d, std::string("pre"), std::int64_t{1});

  constexpr int children = 4, per_child = 500;
  auto codes = test::run_children(children, [&](int c) {
    prefilled.run();  // the child's copy runs on the child's own connection
    Batch b(mgr);
    std::vector<BatchResult<std::int64_t>> incs;
    for (int i = 0; i < per_child; ++i) {
      incs.push_back(b.increment(d, std::string("n"), std::int64_t{1}));
      b.append(l, c * per_child + i);
    }
    b.run();
    std::int64_t last = 0;
    for (auto& r : incs) {
      std::int64_t v = r.get();
      if (v <= last) throw std::runtime_error("increments out of order");
      last = v;
    }
  });
  CHECK(codes == std::vector<int>(children, 0));
  CHECK(d.get("n") == children * per_child);
  CHECK(d.get("pre") == children);
  CHECK(l.size() == children * per_child);
  prefilled.run();  // and the parent's copy on the parent's connection
  CHECK(d.get("pre") == children + 1);
  CHECK(d.get("warm") == 1);
}
