#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>
#include <numeric>

#include "support.hpp"

using namespace mpshare;

TEST_CASE("set: add, discard, remove, contains, size, pop, clear, update, to_vector", "[set]") {
  auto mgr = Manager::spawn();
  auto s = mgr.set<std::string>("s");
  CHECK(s.empty());
  CHECK(s.add("a"));
  CHECK_FALSE(s.add("a"));
  CHECK(s.add("b"));
  CHECK(s.contains("a"));
  CHECK_FALSE(s.contains("z"));
  CHECK(s.size() == 2);
  CHECK(s.discard("a"));
  CHECK_FALSE(s.discard("a"));
  CHECK_THROWS_AS(s.remove("a"), KeyError);
  s.remove("b");
  CHECK(s.empty());
  CHECK(s.update({"x", "y", "x"}) == 2);
  CHECK(s.update_range(std::vector<std::string>{"y", "z"}) == 1);
  auto all = s.to_vector();
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::string>{"x", "y", "z"});
  auto p = s.pop();
  CHECK_FALSE(s.contains(p));
  CHECK(s.size() == 2);
  s.clear();
  CHECK_THROWS_AS(s.pop(), KeyError);
  CHECK_THROWS_AS(mgr.set<int>("s"), TypeMismatch);
  CHECK_THROWS_AS((mgr.dict<std::string, int>("s")), TypeMismatch);
  CHECK(mgr.objects().at(0).type == "set<string>");
}

TEST_CASE("set: 4 processes add overlapping items, each add's answer is atomic", "[set][process]") {
  auto mgr = Manager::spawn();
  auto s = mgr.set<int>("seen");
  auto wins = mgr.list<int>("wins");
  auto codes = test::run_children(4, [&](int) {
    for (int i = 0; i < 200; ++i)
      if (s.add(i)) wins.append(i);
  });
  CHECK(codes == std::vector<int>(4, 0));
  CHECK(s.size() == 200);
  auto w = wins.to_vector();
  std::sort(w.begin(), w.end());
  std::vector<int> want(200);
  std::iota(want.begin(), want.end(), 0);
  CHECK(w == want);  // every item was new to exactly one add
  // pop hands each item to exactly one process.
  auto popped = mgr.list<int>("popped");
  codes = test::run_children(3, [&](int) {
    for (;;) {
      try {
        popped.append(s.pop());
      } catch (const KeyError&) {
        return;
      }
    }
  });
  CHECK(codes == std::vector<int>(3, 0));
  auto p = popped.to_vector();
  std::sort(p.begin(), p.end());
  CHECK(p == want);
}

TEST_CASE("set: created with contents, and a set of proxies", "[set][process]") {
  auto mgr = Manager::spawn();
  auto s = mgr.set<int>("s", {3, 1, 3});
  CHECK(s.size() == 2);
  CHECK(mgr.set<int>("s", std::vector<int>{9}).size() == 2);  // exists: unchanged
  auto lists = mgr.set<List<int>>("lists");
  auto l = mgr.list<int>();
  CHECK(lists.add(l));
  CHECK_FALSE(lists.add(l));
  REQUIRE(test::run_children(1, [&](int) { lists.to_vector().at(0).append(5); }) ==
          std::vector<int>{0});
  CHECK(l.to_vector() == std::vector<int>{5});
}
