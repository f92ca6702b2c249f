// Introspection: Manager::info(), clients() and objects_detail() against a
// spawned server, and their one JSON form.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "mpshare/mpshare.hpp"
#include "program.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

const ObjectDetail* find_object(const std::vector<ObjectDetail>& all, const std::string& name) {
  for (const auto& d : all)
    if (d.name == name) return &d;
  return nullptr;
}

// Polls until pred() holds or 10 s passed.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

}  // namespace

TEST_CASE("introspect: objects in detail show a lock's holder and token, a queue's depth",
          "[introspect]") {
  auto mgr = Manager::spawn();
  auto holder = Manager::connect(mgr.address(), mgr.key());
  auto lock = holder.lock("held");
  const Grant grant = lock.acquire();
  auto q = mgr.queue<int>("jobs", 5);
  q.put(1);
  q.put(2);
  q.put(3);
  auto sem = mgr.semaphore("slots", 2, SemaphoreOptions{.session_aware = true});
  sem.acquire();
  auto ev = mgr.event("go");
  ev.set();
  auto b = mgr.barrier("meet", 3);

  // A second connection waits for the held lock.
  auto waiter_mgr = Manager::connect(mgr.address(), mgr.key());
  auto waiter_lock = waiter_mgr.lock("held");
  // Bounded: should a REQUIRE below fail, the future's destructor waits for
  // it while `lock` is still held.
  auto waiting = std::async(std::launch::async, [&] {
    const std::optional<Grant> g = waiter_lock.try_acquire_for(20s);
    if (g) waiter_lock.release();
    return g;
  });

  std::vector<ObjectDetail> all;
  REQUIRE(eventually([&] {
    all = mgr.objects_detail();
    const ObjectDetail* l = find_object(all, "held");
    return l != nullptr && l->waiters.size() == 1;
  }));
  const ObjectDetail* l = find_object(all, "held");
  CHECK(l->kind == "lock");
  REQUIRE(l->holders.size() == 1);
  CHECK(l->holders[0].what == "lock");
  CHECK(l->holders[0].token == grant.token);
  CHECK(l->holders[0].pid == ::getpid());
  CHECK(l->holders[0].count == 1);
  CHECK(l->state.at("locked") == 1);
  CHECK(l->state.at("token") == static_cast<std::int64_t>(grant.token));
  CHECK(l->waiters[0].op == "LockAcquire");
  CHECK(l->waiters[0].session != l->holders[0].session);
  CHECK(l->waiters[0].waiting_s >= 0);

  const ObjectDetail* jq = find_object(all, "jobs");
  REQUIRE(jq != nullptr);
  CHECK(jq->kind == "queue");
  CHECK(jq->size == 3);
  CHECK(jq->state.at("depth") == 3);
  CHECK(jq->state.at("maxsize") == 5);

  const ObjectDetail* s = find_object(all, "slots");
  REQUIRE(s != nullptr);
  CHECK(s->state.at("value") == 1);
  CHECK(s->state.at("initial") == 2);
  REQUIRE(s->holders.size() == 1);
  CHECK(s->holders[0].what == "permits");
  CHECK(s->holders[0].count == 1);

  CHECK(find_object(all, "go")->state.at("set") == 1);
  CHECK(find_object(all, "meet")->state.at("parties") == 3);
  CHECK(find_object(all, "meet")->state.at("arrivals") == 0);

  // Clients: the holder holds the lock with its token, the waiter waits on it.
  const std::uint64_t holder_session = l->holders[0].session;
  const std::uint64_t waiter_session = l->waiters[0].session;
  const auto clients = mgr.clients();
  bool saw_holder = false, saw_waiter = false, saw_caller = false;
  for (const ClientInfo& c : clients) {
    CHECK(c.transport == "unix");
    CHECK(c.pid == ::getpid());
    CHECK(c.uid == static_cast<std::int64_t>(::getuid()));
    CHECK(c.authenticated);
    CHECK(c.connected_s >= 0);
    if (c.is_caller) saw_caller = true;
    if (c.session == holder_session) {
      saw_holder = true;
      REQUIRE(c.holds.size() == 1);
      CHECK(c.holds[0].object == "held");
      CHECK(c.holds[0].token == grant.token);
      CHECK(c.requests >= 2);
    }
    if (c.session == waiter_session) {
      saw_waiter = true;
      REQUIRE(c.waits.size() == 1);
      CHECK(c.waits[0].object == "held");
      CHECK(c.waits[0].what == "LockAcquire");
    }
  }
  CHECK(saw_holder);
  CHECK(saw_waiter);
  CHECK(saw_caller);

  lock.release();
  const std::optional<Grant> got = waiting.get();
  REQUIRE(got.has_value());
  CHECK(got->token > grant.token);
}

TEST_CASE("introspect: info counts requests per op, bytes and failed handshakes", "[introspect]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<int, int>("d");
  for (int i = 0; i < 10; ++i) d.set(i, i);
  CHECK_THROWS_AS(d.get(99), KeyError);
  CHECK_THROWS_AS(
      Manager::connect(mgr.address(), AuthKey::from_string("a wrong key of 32 bytes, not it")),
      AuthError);
  const ServerInfo info = mgr.info();
  CHECK(!info.version.empty());
  CHECK(info.pid == mgr.server_pid());
  CHECK(info.uptime_s >= 0);
  CHECK(info.objects == 1);
  CHECK(info.sessions >= 1);
  CHECK(info.sessions_total >= 2);
  CHECK(info.auth_failures == 1);
  CHECK(info.memory_rss_bytes > 0);
  CHECK(info.bytes_in > 0);
  CHECK(info.bytes_out > 0);
  CHECK(info.addresses == mgr.addresses());
  CHECK_FALSE(info.allow_shutdown);
  bool saw_set = false, saw_get = false;
  for (const OpStats& o : info.ops) {
    if (o.op == "DictSet") {
      saw_set = true;
      CHECK(o.count == 10);
      CHECK(o.errors == 0);
      CHECK(o.rate > 0);
    }
    if (o.op == "DictGet") {
      saw_get = true;
      CHECK(o.count == 1);
      CHECK(o.errors == 1);
    }
  }
  CHECK(saw_set);
  CHECK(saw_get);
  CHECK(info.requests >= 11);
}

TEST_CASE("introspect: the JSON of each snapshot reads back equal", "[introspect]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<std::string>("q");
  q.put("x");
  auto l = mgr.lock("l");
  l.acquire();
  const ServerInfo info = mgr.info();
  const auto clients = mgr.clients();
  const auto objects = mgr.objects_detail();
  CHECK(server_info_from_json(to_json(info)) == info);
  CHECK(server_info_from_json(to_json(info, false)) == info);
  CHECK(clients_from_json(to_json(clients)) == clients);
  CHECK(objects_from_json(to_json(objects)) == objects);
  const std::string j = to_json(objects, false);
  CHECK(j.find("\"objects\"") != std::string::npos);
  CHECK(j.find("\"depth\": 1") != std::string::npos);
  CHECK(j.find('\n') == std::string::npos);
  CHECK_THROWS_AS(objects_from_json("{not json"), ValueError);
  l.release();
}

TEST_CASE("shutdown: only the spawning process may stop a spawned server",
          "[introspect][shutdown]") {
  auto mgr = Manager::spawn();
  const pid_t child = test::fork_child([&] {
    auto other = Manager::connect(mgr.address(), mgr.key());
    try {
      other.shutdown();
    } catch (const PermissionError& e) {
      const std::string what = e.what();
      if (what.find("only the process that started this server (pid " +
                    std::to_string(::getppid()) + ")") == std::string::npos)
        throw;
      return;
    }
    throw std::runtime_error("shutdown from another process was allowed");
  });
  CHECK(test::wait_child(child, 20s) == 0);
  mgr.ping();  // still up
  // A connect()ed Manager in the spawning process may.
  auto same = Manager::connect(mgr.address(), mgr.key());
  const pid_t server = mgr.server_pid();
  same.shutdown();
  CHECK(test::wait_gone(server, 10s));
}

TEST_CASE("shutdown: with --allow-shutdown any client may stop the server",
          "[introspect][shutdown]") {
  for (const bool allow : {false, true}) {
    test::ServerProgram server(allow ? std::vector<std::string>{"--allow-shutdown"}
                                     : std::vector<std::string>{});
    const AuthKey key = AuthKey::from_file(server.keyfile());
    CHECK(Manager::connect(server.address("unix:"), key).info().allow_shutdown == allow);
    const pid_t child = test::fork_child([&] {
      auto m = Manager::connect(server.address("unix:"), key);
      if (allow) {
        m.shutdown();
      } else {
        try {
          m.shutdown();
        } catch (const PermissionError&) {
          return;
        }
        throw std::runtime_error("allowed");
      }
    });
    CHECK(test::wait_child(child, 20s) == 0);
    if (allow) {
      CHECK(server.wait_exit() == 0);
    } else {
      Manager::connect(server.address("unix:"), key).ping();
    }
  }
}
