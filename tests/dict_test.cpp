#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>
#include <thread>

#include "support.hpp"

using namespace mpshare;

namespace {
struct Point {
  int x = 0, y = 0;
  std::vector<std::string> tags;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(x, y, tags);
  }
  bool operator==(const Point&) const = default;
};
}  // namespace
using namespace std::chrono_literals;

TEST_CASE("dict: set, get, find, contains, erase", "[dict]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("scores");
  d.set("alice", 3);
  CHECK(d.get("alice") == 3);
  CHECK_THROWS_AS(d.get("bob"), KeyError);
  CHECK(d.find("bob") == std::nullopt);
  CHECK(d.find("alice") == 3);
  CHECK(d.get_or("bob", 7) == 7);
  CHECK(d.contains("alice"));
  CHECK_FALSE(d.contains("bob"));
  CHECK(d.erase("alice"));
  CHECK_FALSE(d.erase("alice"));
  CHECK(d.size() == 0);
  CHECK(d.empty());
}

TEST_CASE("dict: setdefault, pop, update, clear keep insertion order", "[dict]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("d");
  CHECK(d.setdefault("carol", 5) == 5);
  CHECK(d.setdefault("carol", 9) == 5);
  CHECK(d.pop("carol") == 5);
  CHECK_THROWS_AS(d.pop("carol"), KeyError);
  d.update({{"x", 1}, {"y", 2}, {"a", 0}});
  d.set("x", 10);  // assignment keeps the position
  CHECK(d.keys() == std::vector<std::string>{"x", "y", "a"});
  CHECK(d.values() == std::vector<std::int64_t>{10, 2, 0});
  d.erase("y");
  d.set("y", 3);  // re-inserted goes last
  CHECK(d.items() ==
        std::vector<std::pair<std::string, std::int64_t>>{{"x", 10}, {"a", 0}, {"y", 3}});
  d.clear();
  CHECK(d.size() == 0);
}

TEST_CASE("dict: increment, compare_exchange and d[k] += n are atomic server ops", "[dict]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("c");
  CHECK(d.increment("x", 5) == 5);  // missing counts as 0
  CHECK(d.increment("x") == 6);
  CHECK(d.compare_exchange("x", 6, 7));
  CHECK_FALSE(d.compare_exchange("x", 6, 8));
  CHECK_FALSE(d.compare_exchange("nope", 0, 1));
  CHECK(d.get("x") == 7);
  d["y"] += 1;
  d["y"] += 2;
  d["y"] -= 1;
  CHECK(d.get("y") == 2);
  d["z"] = 9;
  std::int64_t z = d["z"];
  CHECK(z == 9);

  auto f = mgr.dict<int, double>("f");
  CHECK(f.increment(1, 0.5) == 0.5);
  CHECK(f.increment(1, 0.25) == 0.75);

  auto u = mgr.dict<std::string, std::uint8_t>("u8");
  u.set("k", 250);
  CHECK_THROWS_AS(u.increment("k", 10), ValueError);
  CHECK(u.get("k") == 250);
}

TEST_CASE("dict: reopen by name checks kind and type", "[dict]") {
  auto mgr = Manager::spawn();
  auto a = mgr.dict<std::string, std::int64_t>("shared");
  a.set("k", 1);
  auto b = mgr.dict<std::string, std::int64_t>("shared");
  CHECK(b.get("k") == 1);
  CHECK(b.id() == a.id());
  CHECK_THROWS_AS((mgr.dict<std::string, std::string>("shared")), TypeMismatch);
  CHECK_THROWS_AS(mgr.list<std::int64_t>("shared"), TypeMismatch);
  auto anon1 = mgr.dict<int, int>();
  auto anon2 = mgr.dict<int, int>();
  CHECK(anon1.id() != anon2.id());
  anon1.set(1, 1);
  CHECK(anon2.size() == 0);
}

TEST_CASE("dict: user structs and std containers as values", "[dict]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::pair<int, int>, Point>("points");
  d.set({1, 2}, Point{3, 4, {"a", "b"}});
  CHECK(d.get({1, 2}) == Point{3, 4, {"a", "b"}});
  auto m = mgr.dict<std::string, std::map<std::string, std::vector<double>>>("nested");
  m.set("k", {{"a", {1.0, 2.0}}});
  CHECK(m.get("k").at("a").at(1) == 2.0);
}

TEST_CASE("dict: 4 processes x 10000 d[n] += 1 end at exactly 40000", "[dict][process]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("counter");
  auto codes = test::run_children(4, [&](int) {
    for (int i = 0; i < 10000; ++i) d["n"] += 1;
  });
  CHECK(codes == std::vector<int>{0, 0, 0, 0});
  CHECK(d.get("n") == 40000);
}

TEST_CASE("dict: nested Dict<string, List<int>> whose lists children append to",
          "[dict][process]") {
  auto mgr = Manager::spawn();
  auto outer = mgr.dict<std::string, List<int>>("outer");
  outer.set("evens", mgr.list<int>());
  outer.set("odds", mgr.list<int>());
  auto codes = test::run_children(2, [&](int i) {
    auto l = outer.get(i == 0 ? "evens" : "odds");
    for (int k = i; k < 10; k += 2) l.append(k);
  });
  CHECK(codes == std::vector<int>{0, 0});
  CHECK(outer.get("evens").to_vector() == std::vector<int>{0, 2, 4, 6, 8});
  CHECK(outer.get("odds").to_vector() == std::vector<int>{1, 3, 5, 7, 9});
}

TEST_CASE("dict: many threads of one process share a proxy", "[dict]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<int, std::int64_t>("t");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) d.increment(0, 1);
    });
  for (auto& t : threads) t.join();
  CHECK(d.get(0) == 2000);
}
