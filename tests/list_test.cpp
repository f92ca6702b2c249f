#include <catch2/catch.hpp>
#include <cmath>
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

namespace {
// sort() is offered only for element types the server can decode.
template <class T>
concept Sortable = requires(List<T> l) {
  l.sort();
};
struct Opaque {
  int v = 0;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(v);
  }
};
}  // namespace
static_assert(Sortable<int> && Sortable<double> && Sortable<std::string> && Sortable<bool>);
static_assert(!Sortable<Opaque> && !Sortable<std::pair<int, int>>);

TEST_CASE("list: sort on the server, stable, reverse, and a process sorts what others appended",
          "[list][process]") {
  auto mgr = Manager::spawn();
  auto nums = mgr.list<std::int64_t>("nums");
  auto codes = test::run_children(3, [&](int who) {
    for (std::int64_t i = 0; i < 20; ++i) nums.append((i * 7 + who * 13) % 50 - 25);
  });
  REQUIRE(codes == std::vector<int>{0, 0, 0});
  auto want = nums.to_vector();
  std::sort(want.begin(), want.end());
  REQUIRE(test::run_children(1, [&](int) { nums.sort(); }) == std::vector<int>{0});
  CHECK(nums.to_vector() == want);
  nums.sort(true);
  std::reverse(want.begin(), want.end());
  CHECK(nums.to_vector() == want);

  auto words = mgr.list<std::string>("words", {"pear", "apple", "", "Zebra", "apple pie"});
  words.sort();
  CHECK(words.to_vector() == std::vector<std::string>{"", "Zebra", "apple", "apple pie", "pear"});

  auto reals = mgr.list<double>("reals", {2.5, std::nan(""), -1.0, 0.0});
  reals.sort();
  auto r = reals.to_vector();
  CHECK(r[0] == -1.0);
  CHECK(r[1] == 0.0);
  CHECK(r[2] == 2.5);
  CHECK(std::isnan(r[3]));

  auto u8 = mgr.list<std::uint8_t>("u8", {200, 3, 255, 0});
  u8.sort(true);
  CHECK(u8.to_vector() == std::vector<std::uint8_t>{255, 200, 3, 0});
  auto flags = mgr.list<bool>("flags", {true, false, true});
  flags.sort();
  CHECK(flags.to_vector() == std::vector<bool>{false, true, true});

  // A list opened as opaque (a raw client) cannot be sorted.
  auto raw =
      detail::open_object(*mgr.core(), "raw", Kind::list, "list<raw>", ValueCode::opaque, {});
  CHECK_THROWS_AS(mgr.core()->call<detail::op::ListSort>(raw.object_id, false), TypeMismatch);
}

TEST_CASE("list: set_slice, erase(i, j), repeat follow Python's slices", "[list][process]") {
  auto mgr = Manager::spawn();
  auto l = mgr.list<int>("l", {0, 1, 2, 3, 4, 5});
  l.set_slice(1, 3, {10, 11, 12});  // longer
  CHECK(l.to_vector() == std::vector<int>{0, 10, 11, 12, 3, 4, 5});
  l.set_slice(-3, 100, std::vector<int>{9});  // shorter, clamped
  CHECK(l.to_vector() == std::vector<int>{0, 10, 11, 12, 9});
  l.set_slice(2, 1, {7});  // empty slice: insert at 2
  CHECK(l.to_vector() == std::vector<int>{0, 10, 7, 11, 12, 9});
  l.erase(1, 3);
  CHECK(l.to_vector() == std::vector<int>{0, 11, 12, 9});
  l.erase(-2, 100);
  CHECK(l.to_vector() == std::vector<int>{0, 11});
  l.erase(5, 1);  // empty: nothing
  CHECK(l.size() == 2);
  REQUIRE(test::run_children(1, [&](int) { l.repeat(3); }) == std::vector<int>{0});
  CHECK(l.to_vector() == std::vector<int>{0, 11, 0, 11, 0, 11});
  l.repeat(1);
  CHECK(l.size() == 6);
  CHECK_THROWS_AS(l.repeat(std::int64_t(1) << 40), ValueError);
  CHECK(l.size() == 6);  // unchanged
  l.repeat(0);
  CHECK(l.empty());
}

TEST_CASE("list: created with contents atomically, only when new", "[list][process]") {
  auto mgr = Manager::spawn();
  // Racing creators: exactly one set of contents wins, whole.
  auto codes = test::run_children(4, [&](int who) {
    auto l = mgr.list<int>("race", std::vector<int>(100, who));
    auto v = l.to_vector();
    if (v.size() != 100 || std::count(v.begin(), v.end(), v[0]) != 100)
      throw std::runtime_error("saw a partly filled list");
  });
  CHECK(codes == std::vector<int>(4, 0));
  auto l = mgr.list<int>("race", {1, 2, 3});  // exists: contents ignored
  CHECK(l.size() == 100);
  CHECK(mgr.list<int>("race").size() == 100);
}
