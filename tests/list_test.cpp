#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>

#include "support.hpp"

using namespace mpshare;

TEST_CASE("list: append, extend, insert, index access with negative indices", "[list]") {
  auto mgr = Manager::spawn();
  auto log = mgr.list<std::string>("log");
  log.append("a");
  log.extend({"b", "c"});
  log.insert(0, "z");
  CHECK(log.to_vector() == std::vector<std::string>{"z", "a", "b", "c"});
  CHECK(log.at(-1) == "c");
  CHECK(log[0] == "z");
  CHECK_THROWS_AS(log.at(4), IndexError);
  CHECK_THROWS_AS(log.at(-5), IndexError);
  log.set(0, "y");
  CHECK(log.at(0) == "y");
  CHECK_THROWS_AS(log.set(10, "q"), IndexError);
  log.insert(-1, "m");  // before the last, like Python
  log.insert(100, "end");
  CHECK(log.to_vector() == std::vector<std::string>{"y", "a", "b", "m", "c", "end"});
}

TEST_CASE("list: pop, remove, index, count, slice, reverse, clear", "[list]") {
  auto mgr = Manager::spawn();
  auto l = mgr.list<int>();
  l.extend({1, 2, 3, 2, 1});
  CHECK(l.pop() == 1);
  CHECK(l.pop(0) == 1);
  CHECK(l.to_vector() == std::vector<int>{2, 3, 2});
  l.remove(2);
  CHECK(l.to_vector() == std::vector<int>{3, 2});
  CHECK_THROWS_AS(l.remove(9), ValueError);
  l.extend({3, 4});
  CHECK(l.index(3) == 0);
  CHECK(l.index(3, 1) == 2);
  CHECK_THROWS_AS(l.index(3, 1, 2), ValueError);
  CHECK(l.count(3) == 2);
  CHECK(l.count(7) == 0);
  CHECK(l.slice(1, 3) == std::vector<int>{2, 3});
  CHECK(l.slice(-2, 100) == std::vector<int>{3, 4});
  CHECK(l.slice(3, 1).empty());
  l.reverse();
  CHECK(l.to_vector() == std::vector<int>{4, 3, 2, 3});
  CHECK(l.size() == 4);
  l.clear();
  CHECK(l.empty());
  CHECK_THROWS_AS(l.pop(), IndexError);
}

TEST_CASE("list: 3 processes appending 5 items each give 15", "[list][process]") {
  auto mgr = Manager::spawn();
  auto l = mgr.list<std::pair<int, int>>("shared");
  auto codes = test::run_children(3, [&](int who) {
    for (int i = 0; i < 5; ++i) l.append({who, i});
  });
  CHECK(codes == std::vector<int>{0, 0, 0});
  auto items = l.to_vector();
  REQUIRE(items.size() == 15);
  for (int who = 0; who < 3; ++who) {
    std::vector<int> seen;
    for (auto& [w, i] : items)
      if (w == who) seen.push_back(i);
    CHECK(seen == std::vector<int>{0, 1, 2, 3, 4});  // each process's appends stay in order
  }
}

TEST_CASE("list: reopen with another element type is a TypeMismatch", "[list]") {
  auto mgr = Manager::spawn();
  auto a = mgr.list<int>("l");
  CHECK_THROWS_AS(mgr.list<std::string>("l"), TypeMismatch);
  CHECK_THROWS_AS((mgr.dict<int, int>("l")), TypeMismatch);
  auto b = mgr.list<int>("l");
  a.append(1);
  CHECK(b.to_vector() == std::vector<int>{1});
}
