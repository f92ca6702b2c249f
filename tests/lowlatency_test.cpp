#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {
SpawnOptions low_latency(std::vector<std::string> extra_listen = {}) {
  SpawnOptions o;
  o.server_spin = 200us;
  o.connect.spin = 100us;
  o.extra_listen = std::move(extra_listen);
  return o;
}
}  // namespace

TEST_CASE("low-latency mode: concurrent processes get correct results", "[lowlatency]") {
  auto mgr = Manager::spawn(low_latency());
  auto d = mgr.dict<std::string, std::int64_t>("d");
  auto l = mgr.list<int>("l");
  constexpr int children = 3, per_child = 300;
  auto codes = test::run_children(children, [&](int c) {
    for (int i = 0; i < per_child; ++i) {
      d.increment("n", 1);
      d.set("c" + std::to_string(c), i);
      if (d.get("c" + std::to_string(c)) != i) throw std::runtime_error("lost own write");
      l.append(c * per_child + i);
    }
    Batch b(mgr);
    for (int i = 0; i < per_child; ++i) b.increment(d, std::string("batched"), std::int64_t{1});
    b.run();
  });
  CHECK(codes == std::vector<int>(children, 0));
  CHECK(d.get("n") == children * per_child);
  CHECK(d.get("batched") == children * per_child);
  for (int c = 0; c < children; ++c) CHECK(d.get("c" + std::to_string(c)) == per_child - 1);
  auto items = l.to_vector();
  std::sort(items.begin(), items.end());
  REQUIRE(items.size() == children * per_child);
  for (int i = 0; i < children * per_child; ++i) REQUIRE(items[i] == i);
}

TEST_CASE("low-latency mode over TCP, and errors still arrive typed", "[lowlatency]") {
  auto mgr = Manager::spawn(low_latency({"tcp://127.0.0.1:0"}));
  REQUIRE(mgr.addresses().size() == 2);
  ConnectOptions co;
  co.spin = 50us;
  auto remote = Manager::connect(mgr.addresses()[1], mgr.key(), co);
  auto d = remote.dict<int, std::string>("d");
  CHECK_THROWS_AS(d.get(1), KeyError);
  auto codes = test::run_children(2, [&](int c) {
    for (int i = 0; i < 200; ++i) d.set(c * 1000 + i, std::to_string(i));
  });
  CHECK(codes == std::vector<int>{0, 0});
  CHECK(d.size() == 400);
  CHECK(mgr.dict<int, std::string>("d").get(1199 - 1000) == "199");
}

TEST_CASE("low-latency mode: a server with spinning clients stops cleanly", "[lowlatency]") {
  auto mgr = Manager::spawn(low_latency());
  auto d = mgr.dict<int, int>("d");
  d.set(1, 1);
  pid_t server = mgr.server_pid();
  REQUIRE(server > 0);
  mgr.shutdown();
  CHECK(test::wait_gone(server, 5s));
  CHECK_THROWS_AS(d.get(1), ConnectionLost);
}
