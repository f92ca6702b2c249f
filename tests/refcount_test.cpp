// Anonymous objects live while a reference exists (a process holding a
// proxy, a container storing one) and are freed after; a session's
// disconnect releases what it held among many objects.
#include <signal.h>

#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>
#include <thread>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

using Inner = Dict<std::string, std::int64_t>;

std::size_t count_objects(const Manager& mgr) {
  return mgr.objects().size();
}

// Polls objects() until it reaches `n`; the last count seen otherwise.
std::size_t wait_objects(const Manager& mgr, std::size_t n,
                         std::chrono::milliseconds timeout = 10s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::size_t now = count_objects(mgr);
  while (now != n && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
    now = count_objects(mgr);
  }
  return now;
}

bool has_object(const Manager& mgr, const std::string& name) {
  for (const auto& o : mgr.objects())
    if (o.name == name) return true;
  return false;
}

// A forked child that is killed and reaped however the test ends, unless
// kill() did so already.
struct KilledAtExit {
  pid_t pid;
  explicit KilledAtExit(pid_t p) : pid(p) {}
  KilledAtExit(const KilledAtExit&) = delete;
  KilledAtExit& operator=(const KilledAtExit&) = delete;
  ~KilledAtExit() {
    if (pid > 0) kill();
  }
  // SIGKILL, then its exit code (see wait_child).
  int kill() {
    ::kill(pid, SIGKILL);
    const int code = test::wait_child(pid, 30s);
    pid = -1;
    return code;
  }
};

}  // namespace

TEST_CASE("refcount: ten thousand short-lived clients leave objects() at its baseline",
          "[refcount]") {
  auto mgr = Manager::spawn();
  auto keep = mgr.dict<std::string, std::int64_t>("keep");
  const std::size_t baseline = count_objects(mgr);
  const std::string address = mgr.address();
  const AuthKey key = mgr.key();
  constexpr int processes = 8, clients_each = 1250;
  // Each client connects, makes an anonymous dict and writes to it. Even
  // clients drop their proxy (Release); odd ones close their connection
  // while keeping it, so their references go only when their process exits.
  auto codes = test::run_children(processes, [&](int) {
    std::vector<Inner> kept;
    for (int i = 0; i < clients_each; ++i) {
      auto client = Manager::connect(address, key);
      auto d = client.dict<std::string, std::int64_t>();
      d.set("i", i);
      if (i % 2 == 1) {
        kept.push_back(d);
        client.core()->disconnect_this_thread();
      }
    }
    if (kept.size() != clients_each / 2) throw std::runtime_error("lost a proxy");
  });
  CHECK(codes == std::vector<int>(processes, 0));
  CHECK(wait_objects(mgr, baseline) == baseline);
  CHECK(has_object(mgr, "keep"));
}

TEST_CASE("refcount: the last proxy in a process releases its reference", "[refcount]") {
  auto mgr = Manager::spawn();
  const std::size_t baseline = count_objects(mgr);
  std::optional<Inner> a = mgr.dict<std::string, std::int64_t>();
  const std::string name = a->name();
  CHECK(name.front() == '@');
  std::optional<Inner> b = *a;  // a copy: the same reference
  CHECK(count_objects(mgr) == baseline + 1);
  a.reset();
  CHECK(has_object(mgr, name));
  b->set("x", 1);
  b.reset();  // the Release op is one round trip: gone before the next call
  CHECK_FALSE(has_object(mgr, name));
  CHECK(count_objects(mgr) == baseline);
  // Named objects stay.
  { auto named = mgr.dict<std::string, std::int64_t>("named"); }
  CHECK(has_object(mgr, "named"));
}

TEST_CASE("refcount: an anonymous Dict put in a Queue by a process that exits stays alive",
          "[refcount]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<Inner>("q");
  const std::size_t baseline = count_objects(mgr);
  test::Pipe names;
  pid_t producer = test::fork_child([&] {
    auto d = mgr.dict<std::string, std::int64_t>();
    d.set("answer", 42);
    q.put(d);
    names.write(d.name() + "\n");
  });
  names.close_write();
  REQUIRE(test::wait_child(producer, 30s) == 0);
  std::string name = names.read_to_end();
  name.pop_back();
  // The producer is gone; the queue's copy keeps the dict.
  CHECK(has_object(mgr, name));
  CHECK(count_objects(mgr) == baseline + 1);
  // Another process gets it, uses it and exits.
  pid_t consumer = test::fork_child([&] {
    auto d = q.get();
    if (d.name() != name || d.get("answer") != 42) throw std::runtime_error("wrong dict");
  });
  REQUIRE(test::wait_child(consumer, 30s) == 0);
  CHECK(wait_objects(mgr, baseline) == baseline);
  CHECK_FALSE(has_object(mgr, name));
}

TEST_CASE("refcount: a Dict stored in a Dict lives while stored", "[refcount]") {
  auto mgr = Manager::spawn();
  auto holder = mgr.dict<std::string, Inner>("holder");
  const std::size_t baseline = count_objects(mgr);
  // A child stores a fresh anonymous dict under `key`, then exits.
  auto store_from_child = [&](const std::string& key) {
    test::Pipe names;
    pid_t pid = test::fork_child([&] {
      auto d = mgr.dict<std::string, std::int64_t>();
      d.set("k", 7);
      holder.set(key, d);
      names.write(d.name());
    });
    names.close_write();
    REQUIRE(test::wait_child(pid, 30s) == 0);
    std::string name = names.read_to_end();
    REQUIRE(has_object(mgr, name));
    return name;
  };

  SECTION("erase") {
    auto name = store_from_child("x");
    CHECK(holder.erase("x"));
    CHECK_FALSE(has_object(mgr, name));
  }
  SECTION("overwrite") {
    auto name = store_from_child("x");
    auto other = store_from_child("y");
    holder.set("x", holder.get("y"));  // x now names the other dict
    CHECK_FALSE(has_object(mgr, name));
    CHECK(has_object(mgr, other));
    CHECK(holder.get("x").get("k") == 7);
  }
  SECTION("clear") {
    store_from_child("x");
    store_from_child("y");
    CHECK(count_objects(mgr) == baseline + 2);
    holder.clear();
    CHECK(count_objects(mgr) == baseline);
  }
  SECTION("pop hands the reference to the popping process") {
    auto name = store_from_child("x");
    {
      Inner d = holder.pop("x");
      CHECK(holder.size() == 0);
      CHECK(has_object(mgr, name));
      CHECK(d.get("k") == 7);
    }
    CHECK_FALSE(has_object(mgr, name));
  }
  SECTION("a read copy keeps it after another process removes it") {
    auto name = store_from_child("x");
    Inner d = holder.get("x");
    pid_t pid = test::fork_child([&] { holder.erase("x"); });
    REQUIRE(test::wait_child(pid, 30s) == 0);
    CHECK(holder.size() == 0);
    CHECK(d.get("k") == 7);
  }
  SECTION("a freed container releases what it stored") {
    auto outer = mgr.dict<std::string, Inner>();
    auto inner = mgr.dict<std::string, std::int64_t>();
    outer.set("in", inner);
    const std::string inner_name = inner.name();
    { Inner dropped = std::move(inner); }
    CHECK(has_object(mgr, inner_name));
    { auto gone = std::move(outer); }
    CHECK(count_objects(mgr) == baseline);
  }
  SECTION("List, Set and containers created with contents hold references too") {
    auto list = mgr.list<Inner>("list");
    auto set = mgr.set<Inner>("set");
    std::string name;
    {
      auto d = mgr.dict<std::string, std::int64_t>();
      name = d.name();
      list.append(d);
      set.add(d);
      auto with = mgr.list<Inner>("with", {d, d});
    }
    CHECK(has_object(mgr, name));
    list.clear();
    CHECK(has_object(mgr, name));
    set.clear();
    CHECK(has_object(mgr, name));
    mgr.remove("with");
    CHECK_FALSE(has_object(mgr, name));
  }
}

namespace {
void use_later(Inner d, int ready_fd, int go_fd) {
  char c = 1;
  if (::write(ready_fd, &c, 1) != 1 || ::read(go_fd, &c, 1) != 1) std::_Exit(3);
  d.set("child", 1);
}
}  // namespace

TEST_CASE("refcount: a proxy copied to a child Process keeps its object", "[refcount]") {
  auto mgr = Manager::spawn();
  const std::size_t baseline = count_objects(mgr);
  test::Pipe ready, go;
  std::string name;
  std::optional<Process> p;
  {
    auto d = mgr.dict<std::string, std::int64_t>();
    name = d.name();
    p.emplace(use_later, d, ready.write_fd(), go.read_fd());
    p->start();
  }  // this scope's proxy is gone; the Process keeps its copy
  ready.read(1);
  CHECK(has_object(mgr, name));
  go.write("g");
  p->join();
  CHECK(p->exitcode() == 0);
  p.reset();
  CHECK(wait_objects(mgr, baseline) == baseline);
}

TEST_CASE("refcount: a killed process's references go with it", "[refcount]") {
  auto mgr = Manager::spawn();
  const std::size_t baseline = count_objects(mgr);
  test::Pipe ready;
  KilledAtExit child{test::fork_child([&] {
    auto d = mgr.dict<std::string, std::int64_t>();
    ready.write("r");
    ::pause();
  })};
  ready.read(1);
  CHECK(count_objects(mgr) == baseline + 1);
  CHECK(child.kill() == 128 + SIGKILL);
  CHECK(wait_objects(mgr, baseline) == baseline);
}

TEST_CASE("disconnect: releases a lock, a permit and a waiter among many objects",
          "[refcount][disconnect]") {
  auto mgr = Manager::spawn();
  for (int i = 0; i < 2000; ++i) mgr.lock("l" + std::to_string(i));
  auto lock = mgr.lock("l1234");
  auto sem = mgr.semaphore("s", 1, SemaphoreOptions{.session_aware = true});
  auto ev = mgr.event("e");
  auto waiters = [&] {
    for (const auto& o : mgr.objects())
      if (o.name == "e") return o.size;
    return std::uint64_t(99);
  };
  test::Pipe ready;
  KilledAtExit child{test::fork_child([&] {
    lock.acquire();
    sem.acquire();
    std::thread([&] { ev.wait(); }).detach();
    ready.write("r");
    ::pause();
  })};
  ready.read(1);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (waiters() != 1 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  REQUIRE(waiters() == 1);
  CHECK_FALSE(lock.try_acquire().has_value());
  CHECK_FALSE(sem.try_acquire());
  REQUIRE(child.kill() == 128 + SIGKILL);
  CHECK(lock.try_acquire_for(10s).has_value());
  CHECK(sem.try_acquire_for(10s));
  while (waiters() != 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  CHECK(waiters() == 0);
}
