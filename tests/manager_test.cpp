// Manager: spawn, connect, lifetime of the spawned server, fork safety,
// deadlines.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <mpshare/mpshare.hpp>
#include <thread>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

TEST_CASE("manager: objects() lists names, kinds, types and sizes, remove()", "[manager]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("scores");
  d.update({{"a", 1}, {"b", 2}});
  auto l = mgr.list<std::string>("log");
  l.append("x");
  auto objs = mgr.objects();
  REQUIRE(objs.size() == 2);
  CHECK(objs[0] == ObjectInfo{"log", Kind::list, "list<string>", 1});
  CHECK(objs[1] == ObjectInfo{"scores", Kind::dict, "dict<string,int64>", 2});
  mgr.remove("log");
  CHECK_THROWS_AS(l.append("y"), NoSuchObject);
  CHECK_THROWS_AS(mgr.remove("log"), KeyError);
  CHECK(mgr.objects().size() == 1);
  auto again = mgr.list<std::string>("log");  // a fresh object under the old name
  CHECK(again.size() == 0);
}

TEST_CASE("manager: the spawned server stops with its Manager and leaves nothing", "[manager]") {
  pid_t server = 0;
  std::string path;
  {
    auto mgr = Manager::spawn();
    server = mgr.server_pid();
    path = mgr.address().substr(5);
    REQUIRE(server > 0);
    CHECK(std::filesystem::exists(path));
    mgr.ping();
  }
  CHECK(test::wait_gone(server, 100ms));
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
}

TEST_CASE("manager: no orphan server when the spawning process is killed", "[manager]") {
  test::Pipe p;
  pid_t child = test::fork_child([&] {
    auto mgr = Manager::spawn();
    mgr.dict<int, int>("x").set(1, 1);
    p.write(std::to_string(mgr.server_pid()) + "\n" + mgr.address() + "\n");
    ::pause();
  });
  std::string line;
  while (std::count(line.begin(), line.end(), '\n') < 2) line += p.read(1);
  pid_t server = std::stoi(line.substr(0, line.find('\n')));
  std::string path = line.substr(line.find('\n') + 1 + 5);
  path.pop_back();
  ::kill(child, SIGKILL);
  CHECK(test::wait_child(child) == 128 + SIGKILL);
  CHECK(test::wait_gone(server, 5s));
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("manager: a static Manager stops its server at exit", "[manager]") {
  test::Pipe p;
  pid_t child = test::fork_child([&] {
    ::dup2(p.write_fd(), 1);
    ::execl(MPSHARE_STATIC_MANAGER_PROGRAM, "static_manager", nullptr);
    ::_exit(127);
  });
  p.close_write();
  const std::string out = p.read_to_end();
  CHECK(test::wait_child(child) == 0);
  REQUIRE(std::count(out.begin(), out.end(), '\n') == 2);
  pid_t server = std::stoi(out.substr(0, out.find('\n')));
  std::string path = out.substr(out.find('\n') + 1 + 5);
  path.pop_back();
  CHECK(test::wait_gone(server, 5s));
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("manager: a forked child's copy never stops the server", "[manager]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<int, int>("d");
  auto codes = test::run_children(1, [&](int) {
    d.set(1, 1);
    mgr.shutdown();  // not the owner: no effect
  });
  CHECK(codes == std::vector<int>{0});
  d.set(2, 2);
  CHECK(d.size() == 2);
}

TEST_CASE("manager: a thread drops its connection of a Manager destroyed elsewhere", "[manager]") {
  auto mgr = Manager::spawn();
  auto other = std::make_unique<Manager>(Manager::connect(mgr.address(), mgr.key()));
  std::promise<void> used, destroyed;
  std::size_t before = 0, after = 0;
  std::thread t([&] {
    {
      auto d = other->dict<int, int>("d");
      d.set(1, 1);  // this thread's connection for `other`
    }
    used.set_value();
    destroyed.get_future().wait();
    before = test::open_fds();
    mgr.dict<int, int>("d").set(2, 2);  // opens one, closes the stale one
    after = test::open_fds();
  });
  used.get_future().wait();
  other.reset();
  destroyed.set_value();
  t.join();
  CHECK(after == before);
  CHECK(mgr.dict<int, int>("d").size() == 2);
}

TEST_CASE("manager: parent and child use the same proxy at once without sharing a socket",
          "[manager][process]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<int, std::int64_t>("d");
  d.set(0, 0);  // the parent's connection exists before the fork
  pid_t child = test::fork_child([&] {
    for (int i = 0; i < 2000; ++i)
      if (d.increment(1, 1) != i + 1) throw std::runtime_error("child saw a wrong reply");
  });
  for (int i = 0; i < 2000; ++i) REQUIRE(d.increment(0, 1) == i + 1);
  CHECK(test::wait_child(child) == 0);
  CHECK(d.get(1) == 2000);
}

TEST_CASE("manager: remote workers connect over TCP", "[manager][process]") {
  SpawnOptions o;
  o.extra_listen = {"tcp://127.0.0.1:0"};
  auto mgr = Manager::spawn(o);
  REQUIRE(mgr.addresses().size() == 2);
  std::string tcp = mgr.addresses()[1];
  CHECK(tcp.rfind("tcp://127.0.0.1:", 0) == 0);
  CHECK(tcp != "tcp://127.0.0.1:0");
  auto results = mgr.list<int>("results");
  auto codes = test::run_children(2, [&](int i) {
    auto remote = Manager::connect(tcp, mgr.key());
    auto r = remote.list<int>("results");
    r.append(i * 10);
    auto d = remote.dict<std::string, std::int64_t>("tcp");
    for (int k = 0; k < 100; ++k) d["n"] += 1;
  });
  CHECK(codes == std::vector<int>{0, 0});
  CHECK(results.size() == 2);
  CHECK((mgr.dict<std::string, std::int64_t>("tcp").get("n")) == 200);
}

TEST_CASE("manager: a dead server gives ConnectionLost, a stalled one Timeout", "[manager]") {
  SECTION("killed") {
    auto mgr = Manager::spawn();
    auto d = mgr.dict<int, int>("d");
    d.set(1, 1);
    ::kill(mgr.server_pid(), SIGKILL);
    CHECK(test::wait_gone(mgr.server_pid(), 5s));
    CHECK_THROWS_AS(d.set(1, 2), ConnectionLost);
    CHECK_THROWS_AS(d.get(1), ConnectionLost);
  }
  SECTION("stopped") {
    auto mgr = Manager::spawn();
    ConnectOptions o;
    o.call_timeout = 300ms;
    auto client = Manager::connect(mgr.address(), mgr.key(), o);
    auto d = client.dict<int, int>("d");
    d.set(1, 1);
    ::kill(mgr.server_pid(), SIGSTOP);
    auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(d.get(1), Timeout);
    auto took = std::chrono::steady_clock::now() - start;
    ::kill(mgr.server_pid(), SIGCONT);
    CHECK(took >= 300ms);
    CHECK(took < 5s);
    CHECK(d.get(1) == 1);  // a new connection once the server is back
  }
}

TEST_CASE("manager: shutdown() stops the server for every client", "[manager]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<int, int>("d");
  auto client = Manager::connect(mgr.address(), mgr.key());
  auto cd = client.dict<int, int>("d");
  cd.set(1, 1);
  pid_t server = mgr.server_pid();
  mgr.shutdown();
  CHECK(test::wait_gone(server, 1s));
  CHECK_THROWS_AS(cd.get(1), ConnectionLost);
}

TEST_CASE("manager: SpawnOptions::key, AuthKey to and from hex for workers", "[manager][process]") {
  auto chosen = AuthKey::from_hex("00ff10Ab00ff10ab00ff10ab00ff10ab");
  CHECK(chosen.bytes().substr(0, 4) == std::string("\x00\xff\x10\xab", 4));
  CHECK(chosen.to_hex() == "00ff10ab00ff10ab00ff10ab00ff10ab");
  auto random = AuthKey::random();
  CHECK(AuthKey::from_hex(random.to_hex()) == random);
  CHECK_THROWS_AS(AuthKey::from_hex(""), ValueError);
  CHECK_THROWS_AS(AuthKey::from_hex("abc"), ValueError);
  CHECK_THROWS_AS(AuthKey::from_hex("zz"), ValueError);
  SpawnOptions options;
  options.key = AuthKey();
  CHECK_THROWS_AS(Manager::spawn(options), ValueError);

  options.key = chosen;
  auto mgr = Manager::spawn(options);
  CHECK(mgr.key() == chosen);
  // A worker gets the address and the key as text, as through its environment.
  const std::string address = mgr.address(), hex = mgr.key().to_hex();
  REQUIRE(test::run_children(1, [&](int) {
            auto worker = Manager::connect(address, AuthKey::from_hex(hex));
            worker.list<int>("done").append(1);
          }) == std::vector<int>{0});
  CHECK(mgr.list<int>("done").size() == 1);
  CHECK_THROWS_AS(
      Manager::connect(address, AuthKey::from_hex("00ff10ac00ff10ab00ff10ab00ff10ab")).ping(),
      AuthError);
}
