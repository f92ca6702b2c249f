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

TEST_CASE("dict: Dict in Dict, Dict in List, List in Dict across processes", "[dict][process]") {
  auto mgr = Manager::spawn();
  using Inner = Dict<std::string, int>;
  auto outer = mgr.dict<std::string, Inner>("outer");
  auto rows = mgr.list<Inner>("rows");
  auto groups = mgr.dict<std::string, List<std::string>>("groups");
  outer.set("a", mgr.dict<std::string, int>());
  rows.append(mgr.dict<std::string, int>());
  rows.append(mgr.dict<std::string, int>());
  groups.set("g", mgr.list<std::string>());
  auto codes = test::run_children(2, [&](int i) {
    outer.get("a")[std::to_string(i)] = i + 10;
    rows.at(i).set("row", i);
    groups.get("g").append("child" + std::to_string(i));
  });
  CHECK(codes == std::vector<int>{0, 0});
  auto inner = outer.get("a");
  CHECK(inner.get("0") == 10);
  CHECK(inner.get("1") == 11);
  CHECK(rows.at(0).get("row") == 0);
  CHECK(rows.at(1).get("row") == 1);
  auto names = groups.get("g").to_vector();
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"child0", "child1"});
  // Nested twice: a Dict of Dicts of Dicts.
  auto deep = mgr.dict<int, Dict<int, Inner>>("deep");
  auto mid = mgr.dict<int, Inner>();
  mid.set(1, inner);
  deep.set(0, mid);
  CHECK(deep.get(0).get(1).get("1") == 11);
}

TEST_CASE("dict: popitem takes the last inserted, fromkeys, created with contents",
          "[dict][process]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, int>("d", {{"a", 1}, {"b", 2}, {"c", 3}});
  CHECK(d.keys() == std::vector<std::string>{"a", "b", "c"});
  // Contents apply only when created: a reopen keeps what is there.
  REQUIRE(test::run_children(1, [&](int) {
            auto again = mgr.dict<std::string, int>("d", {{"x", 9}});
            if (again.size() != 3) throw std::runtime_error("contents applied twice");
            again.set("d", 4);
          }) == std::vector<int>{0});
  CHECK(d.popitem() == std::pair<std::string, int>{"d", 4});
  d.set("a", 10);  // assignment keeps the position
  CHECK(d.popitem() == std::pair<std::string, int>{"c", 3});
  CHECK(d.popitem() == std::pair<std::string, int>{"b", 2});
  CHECK(d.popitem() == std::pair<std::string, int>{"a", 10});
  CHECK_THROWS_AS(d.popitem(), KeyError);

  auto f = mgr.dict_fromkeys<std::string, int>("f", {"x", "y"}, 7);
  CHECK(f.items() == std::vector<std::pair<std::string, int>>{{"x", 7}, {"y", 7}});
  auto g = mgr.dict_fromkeys<int, std::string>("g", std::vector<int>{3, 1});
  CHECK(g.items() == std::vector<std::pair<int, std::string>>{{3, ""}, {1, ""}});
  auto h = mgr.dict<int, int>("h", std::map<int, int>{{2, 4}, {1, 1}});
  CHECK(h.keys() == std::vector<int>{1, 2});
}
