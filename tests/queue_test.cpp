#include <catch2/catch.hpp>
#include <mpshare/mpshare.hpp>
#include <thread>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

template <class Q>
detail::QueueStatus status(const Q& q) {
  return q.core().template call<detail::op::QueueInfo>(q.id());
}

// Polls the queue's state (not a sleep) until `pred` holds; false after 10 s.
template <class Q, class Pred>
bool wait_status(const Q& q, Pred pred) {
  auto until = Clock::now() + 10s;
  while (Clock::now() < until) {
    if (pred(status(q))) return true;
    std::this_thread::yield();
  }
  return false;
}

template <class F>
std::chrono::milliseconds elapsed(F&& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

}  // namespace

TEST_CASE("queue: put, get, try_get, size, empty, full, maxsize", "[queue]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<std::string>("q", 2);
  CHECK(q.maxsize() == 2);
  CHECK(q.empty());
  CHECK_FALSE(q.full());
  CHECK(q.try_get() == std::nullopt);
  q.put("a");
  CHECK(q.try_put("b"));
  CHECK(q.full());
  CHECK_FALSE(q.try_put("c"));
  CHECK(q.size() == 2);
  CHECK(q.get() == "a");
  CHECK(q.get(1s) == "b");
  CHECK(q.empty());

  auto u = mgr.queue<std::vector<int>>();
  CHECK(u.maxsize() == 0);
  for (int i = 0; i < 1000; ++i) CHECK(u.try_put({i, i}));
  CHECK_FALSE(u.full());
  CHECK(u.size() == 1000);
  CHECK(u.get() == std::vector<int>{0, 0});
}

TEST_CASE("queue: put_many and get_many keep order in one call", "[queue]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q");
  q.put_many(std::vector<int>{1, 2, 3, 4, 5});
  CHECK(q.get_many(3, 1s) == std::vector<int>{1, 2, 3});
  CHECK(q.get_many(10) == std::vector<int>{4, 5});
  CHECK(q.get_many(10, 50ms).empty());
  CHECK_THROWS_AS(q.get_many(0, 1s), ValueError);

  auto b = mgr.queue<int>("bounded", 3);
  CHECK(b.put_many(std::vector<int>{1, 2, 3, 4, 5}, 0s) == 3);  // what fits
  CHECK(b.put_many(std::vector<int>{6}, 50ms) == 0);
  CHECK(b.get_many(10, 0s) == std::vector<int>{1, 2, 3});

  // A batch larger than the bound goes in as a consumer makes room.
  std::vector<int> big(100);
  for (int i = 0; i < 100; ++i) big[static_cast<std::size_t>(i)] = i;
  std::thread producer([&] { b.put_many(big); });
  std::vector<int> got;
  while (got.size() < big.size()) {
    auto part = b.get_many(7, 10s);
    REQUIRE_FALSE(part.empty());
    CHECK(part.size() <= 3);
    got.insert(got.end(), part.begin(), part.end());
  }
  producer.join();
  CHECK(got == big);
}

TEST_CASE("queue: timeouts return within a bounded error of the requested time", "[queue]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q", 1);
  std::optional<int> got;
  auto t = elapsed([&] { got = q.get(200ms); });
  CHECK(got == std::nullopt);
  CHECK(t >= 200ms);
  CHECK(t < 1200ms);

  t = elapsed([&] { CHECK(q.get_many(5, 0.15s).empty()); });
  CHECK(t >= 150ms);
  CHECK(t < 1150ms);

  q.put(1);
  bool put = true;
  t = elapsed([&] { put = q.put(2, 200ms); });
  CHECK_FALSE(put);
  CHECK(t >= 200ms);
  CHECK(t < 1200ms);
  CHECK(q.size() == 1);

  auto j = mgr.joinable_queue<int>("j");
  CHECK(j.join(0s));
  j.put(1);
  bool joined = true;
  t = elapsed([&] { joined = j.join(200ms); });
  CHECK_FALSE(joined);
  CHECK(t >= 200ms);
  CHECK(t < 1200ms);

  // Zero means "don't wait".
  t = elapsed([&] { CHECK_FALSE(q.put(3, 0s)); });
  CHECK(t < 1000ms);
  CHECK(status(q).getters == 0);
  CHECK(status(q).putters == 0);
}

TEST_CASE("queue: parked getters and putters are served first come, first served",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q", 1);
  auto results = mgr.list<int>("results");
  std::vector<pid_t> getters;
  for (int i = 0; i < 3; ++i) {
    getters.push_back(test::fork_child([&, i] {
      int v = q.get();
      results.append(i * 10 + v);
    }));
    REQUIRE(wait_status(q, [&](auto s) { return s.getters == static_cast<std::uint64_t>(i + 1); }));
  }
  q.put_many(std::vector<int>{0, 1, 2});
  for (pid_t p : getters) CHECK(test::wait_child(p) == 0);
  auto r = results.to_vector();
  std::sort(r.begin(), r.end());
  CHECK(r == std::vector<int>{0, 11, 22});  // getter i got item i

  q.put(100);  // full
  std::vector<pid_t> putters;
  for (int i = 0; i < 3; ++i) {
    putters.push_back(test::fork_child([&, i] { q.put(i); }));
    REQUIRE(wait_status(q, [&](auto s) { return s.putters == static_cast<std::uint64_t>(i + 1); }));
  }
  CHECK(q.get() == 100);
  CHECK(q.get() == 0);
  CHECK(q.get() == 1);
  CHECK(q.get() == 2);
  for (pid_t p : putters) CHECK(test::wait_child(p) == 0);
  // A parked batch goes in before a later putter's item, never interleaved.
  q.put(7);
  pid_t batch = test::fork_child([&] { q.put_many(std::vector<int>{8, 9, 10}); });
  REQUIRE(wait_status(q, [](auto s) { return s.putters == 1; }));
  pid_t later = test::fork_child([&] { q.put(11); });
  REQUIRE(wait_status(q, [](auto s) { return s.putters == 2; }));
  CHECK_FALSE(q.try_put(12));
  std::vector<int> got;
  while (got.size() < 5) got.push_back(q.get());
  CHECK(got == std::vector<int>{7, 8, 9, 10, 11});
  CHECK(test::wait_child(batch) == 0);
  CHECK(test::wait_child(later) == 0);
  CHECK(q.empty());
}

TEST_CASE("queue: producer and consumer processes over a bounded queue with a sentinel",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  constexpr int n = 5000;
  auto q = mgr.queue<int>("jobs", 16);
  auto verdict = mgr.dict<std::string, std::int64_t>("verdict");
  bool batched = GENERATE(false, true);
  pid_t consumer = test::fork_child([&] {
    std::int64_t received = 0, in_order = 0;
    for (bool done = false; !done;) {
      std::vector<int> got = batched ? q.get_many(64) : std::vector<int>{q.get()};
      for (int v : got) {
        if (v < 0) {
          done = true;
          break;
        }
        if (v == received) ++in_order;
        ++received;
      }
    }
    verdict.set("received", received);
    verdict.set("in_order", in_order);
  });
  pid_t producer = test::fork_child([&] {
    if (batched) {
      std::vector<int> batch;
      for (int i = 0; i < n; ++i) {
        batch.push_back(i);
        if (batch.size() == 64) q.put_many(batch), batch.clear();
      }
      batch.push_back(-1);
      q.put_many(batch);
    } else {
      for (int i = 0; i < n; ++i) q.put(i);
      q.put(-1);
    }
  });
  CHECK(test::wait_child(producer) == 0);
  CHECK(test::wait_child(consumer) == 0);
  CHECK(verdict.get_or("received", -1) == n);
  CHECK(verdict.get_or("in_order", -1) == n);
  CHECK(q.empty());
}

TEST_CASE("joinable_queue: join returns once workers in other processes mark every task done",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto tasks = mgr.joinable_queue<int>("tasks");
  auto done = mgr.dict<std::string, std::int64_t>("done");
  constexpr int n = 300;
  for (int i = 1; i <= n; ++i) tasks.put(i);
  CHECK_FALSE(tasks.join(0s));
  std::vector<pid_t> workers;
  for (int w = 0; w < 3; ++w)
    workers.push_back(test::fork_child([&] {
      for (;;) {
        int t = tasks.get();
        if (t == 0) {
          tasks.task_done();
          return;
        }
        done.increment("sum", t);
        done.increment("count", 1);
        tasks.task_done();
      }
    }));
  tasks.join();
  // Every task was recorded before its task_done().
  CHECK(done.get("count") == n);
  CHECK(done.get("sum") == n * (n + 1) / 2);
  for (int w = 0; w < 3; ++w) tasks.put(0);
  CHECK(tasks.join(10s));
  for (pid_t p : workers) CHECK(test::wait_child(p) == 0);
  CHECK(status(tasks).unfinished == 0);
}

TEST_CASE("joinable_queue: task_done counts batches, too many is a ValueError", "[queue]") {
  auto mgr = Manager::spawn();
  auto j = mgr.joinable_queue<int>("j");
  CHECK_THROWS_AS(j.task_done(), ValueError);
  j.put_many(std::vector<int>{1, 2, 3});
  CHECK(j.get_many(3) == std::vector<int>{1, 2, 3});
  CHECK_THROWS_AS(j.task_done(4), ValueError);
  CHECK(status(j).unfinished == 3);  // unchanged by the failed call
  j.task_done(2);
  CHECK_FALSE(j.join(0s));
  std::thread joiner([&] { j.join(); });
  REQUIRE(wait_status(j, [](auto s) { return s.joiners == 1; }));
  j.task_done();
  joiner.join();
  CHECK(j.join(0s));
  CHECK_THROWS_AS(j.task_done(), ValueError);
}

TEST_CASE("queue: a thread blocked in get() does not stall other threads of the process",
          "[queue]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q");
  auto other = mgr.queue<int>("other");
  std::optional<int> got;
  std::thread blocked([&] { got = q.get(); });
  REQUIRE(wait_status(q, [](auto s) { return s.getters == 1; }));
  for (int i = 0; i < 100; ++i) other.put(i);
  CHECK(other.get_many(200, 1s).size() == 100);
  CHECK(q.size() == 0);
  q.put(42);
  blocked.join();
  CHECK(got == 42);
}

TEST_CASE("queue: kill -9 of a process parked in get() drops its wait, nothing is lost",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q");
  test::Pipe pipe;
  pid_t doomed = test::fork_child([&] { q.get(); });
  REQUIRE(wait_status(q, [](auto s) { return s.getters == 1; }));
  pid_t live = test::fork_child([&] {
    int v = q.get();
    pipe.write(std::to_string(v).substr(0, 1));
  });
  REQUIRE(wait_status(q, [](auto s) { return s.getters == 2; }));
  ::kill(doomed, SIGKILL);
  REQUIRE(test::wait_gone(doomed, 10s));
  auto t0 = Clock::now();
  REQUIRE(wait_status(q, [](auto s) { return s.getters == 1; }));
  q.put(7);
  CHECK(pipe.read(1) == "7");  // the live getter got it
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  INFO("from the kill to the live getter's item: " << waited.count() << " ms");
  CHECK(waited < 100ms);
  CHECK(test::wait_child(live) == 0);
  CHECK(test::wait_child(doomed) == 128 + SIGKILL);
  CHECK(q.empty());
  CHECK(status(q).getters == 0);
}

TEST_CASE("queue: a client blocked in get() gets ConnectionLost when the server stops",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q");
  auto j = mgr.joinable_queue<int>("j");
  j.put(1);
  // One waiter in another process, one in a thread of this one.
  pid_t child = test::fork_child([&] {
    try {
      q.get(60s);
    } catch (const ConnectionLost&) {
      ::_exit(42);
    }
  });
  std::chrono::milliseconds waited{-1};
  bool lost = false;
  std::thread blocked([&] {
    auto t0 = Clock::now();
    try {
      j.join();
    } catch (const ConnectionLost&) {
      lost = true;
    }
    waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  });
  REQUIRE(wait_status(q, [](auto s) { return s.getters == 1; }));
  REQUIRE(wait_status(j, [](auto s) { return s.joiners == 1; }));
  auto t0 = Clock::now();
  mgr.shutdown();
  blocked.join();
  CHECK(lost);
  CHECK(test::wait_child(child, 10s) == 42);
  CHECK(Clock::now() - t0 < 5s);  // not at the child's 60 s deadline
  CHECK_THROWS_AS(q.get(), ConnectionLost);
}

TEST_CASE("queue: removing a queue fails its parked waits with NoSuchObject", "[queue]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q");
  bool failed = false;
  std::thread blocked([&] {
    try {
      q.get();
    } catch (const NoSuchObject&) {
      failed = true;
    }
  });
  REQUIRE(wait_status(q, [](auto s) { return s.getters == 1; }));
  mgr.remove("q");
  blocked.join();
  CHECK(failed);
}

TEST_CASE("queue: bad input gets clear errors", "[queue]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q", 4);
  CHECK_THROWS_AS(q.get(-1ms), ValueError);
  CHECK_THROWS_AS(q.put(1, -1s), ValueError);
  CHECK_THROWS_AS(q.get_many(2, std::chrono::duration<double>(-0.5)), ValueError);
  auto j = mgr.joinable_queue<int>("j");
  CHECK_THROWS_AS(j.join(-5ms), ValueError);
  // The server checks too.
  auto& core = *mgr.core();
  CHECK_THROWS_AS(core.call<detail::op::QueueGet>(q.id(), std::uint64_t{1}, std::int64_t{-2}),
                  ValueError);
  CHECK_THROWS_AS(
      core.call<detail::op::QueuePut>(q.id(), detail::BytesList{encode(1)}, std::int64_t{-7}),
      ValueError);
  CHECK_THROWS_AS(core.call<detail::op::QueueJoin>(j.id(), std::int64_t{-3}), ValueError);
  CHECK(q.empty());
  // task_done and join apply to JoinableQueue only.
  CHECK_THROWS_AS(core.call<detail::op::QueueTaskDone>(q.id(), std::uint64_t{1}), TypeMismatch);
  // Reopening with another maxsize, kind or type.
  CHECK(mgr.queue<int>("q", 4).id() == q.id());
  CHECK_THROWS_AS(mgr.queue<int>("q", 5), TypeMismatch);
  CHECK_THROWS_AS(mgr.queue<int>("q"), TypeMismatch);
  CHECK_THROWS_AS(mgr.joinable_queue<int>("q", 4), TypeMismatch);
  CHECK_THROWS_AS(mgr.queue<std::string>("q", 4), TypeMismatch);
  CHECK_THROWS_AS(mgr.queue<int>("j"), TypeMismatch);
  // Huge timeouts mean forever, not an overflow.
  q.put(1);
  CHECK(q.get(std::chrono::hours::max()) == 1);
}

TEST_CASE("queue: proxies travel through a queue and objects() lists sizes", "[queue]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<Queue<int>>("of_queues");
  auto inner = mgr.queue<int>("inner", 3);
  q.put(inner);
  auto back = q.get();
  back.put(5);
  CHECK(inner.get() == 5);
  inner.put(1);
  inner.put(2);
  bool found = false;
  for (const auto& o : mgr.objects())
    if (o.name == "inner") {
      found = true;
      CHECK(o.kind == Kind::queue);
      CHECK(o.type == "queue<int32>");
      CHECK(o.size == 2);
    }
  CHECK(found);
}

TEST_CASE("queue: Queue of Dicts and Queue of Lists carry proxies across processes",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto dicts = mgr.queue<Dict<std::string, int>>("dicts");
  auto lists = mgr.queue<List<int>>("lists");
  test::Pipe done;
  pid_t child = test::fork_child([&] {
    auto d = dicts.get(10s).value();
    d.set("seen", 1);
    auto l = lists.get(10s).value();
    l.extend({1, 2, 3});
  });
  auto d = mgr.dict<std::string, int>();
  auto l = mgr.list<int>();
  dicts.put(d);
  lists.put(l);
  REQUIRE(test::wait_child(child) == 0);
  CHECK(d.get("seen") == 1);
  CHECK(l.to_vector() == std::vector<int>{1, 2, 3});
}

TEST_CASE("queue: after shutdown() puts fail, gets drain and then fail, parked getters wake",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto q = mgr.queue<int>("q");
  // A consumer process parked in get() (queue empty) wakes with ShutDown.
  test::Pipe result;
  pid_t waiter = test::fork_child([&] {
    try {
      q.get();
      result.write("item");
    } catch (const ShutDown&) {
      result.write("shut");
    }
  });
  REQUIRE(wait_status(q, [](auto s) { return s.getters == 1; }));
  q.put(1);
  CHECK(result.read(4) == "item");
  REQUIRE(test::wait_child(waiter) == 0);

  q.put(2);
  q.put(3);
  CHECK_FALSE(q.is_shutdown());
  q.shutdown();
  CHECK(q.is_shutdown());
  CHECK_THROWS_AS(q.put(4), ShutDown);
  CHECK_THROWS_AS(q.try_put(4), ShutDown);
  // Consumers in other processes drain what is left, then see ShutDown.
  auto got = mgr.list<int>("got");
  auto codes = test::run_children(2, [&](int) {
    for (;;) {
      try {
        got.append(q.get());
      } catch (const ShutDown&) {
        return;
      }
    }
  });
  CHECK(codes == std::vector<int>{0, 0});
  auto all = got.to_vector();
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<int>{2, 3});
  CHECK_THROWS_AS(q.try_get(), ShutDown);
  CHECK_THROWS_AS(q.get(10ms), ShutDown);
  CHECK_THROWS_AS(q.get_many(5), ShutDown);
  q.shutdown();  // idempotent
}

TEST_CASE("queue: shutdown(true) drops items and wakes parked putters and getters",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto full = mgr.queue<int>("full", 1);
  full.put(1);
  auto empty = mgr.queue<int>("empty");
  test::Pipe result;
  pid_t putter = test::fork_child([&] {
    try {
      full.put(2);
    } catch (const ShutDown&) {
      result.write("p");
    }
  });
  pid_t getter = test::fork_child([&] {
    try {
      empty.get();
    } catch (const ShutDown&) {
      result.write("g");
    }
  });
  REQUIRE(wait_status(full, [](auto s) { return s.putters == 1; }));
  REQUIRE(wait_status(empty, [](auto s) { return s.getters == 1; }));
  full.shutdown(true);
  empty.shutdown(true);
  auto both = result.read(2);
  std::sort(both.begin(), both.end());
  CHECK(both == "gp");
  CHECK(test::wait_child(putter) == 0);
  CHECK(test::wait_child(getter) == 0);
  CHECK(full.size() == 0);
  CHECK_THROWS_AS(full.get(), ShutDown);
}

TEST_CASE("joinable_queue: shutdown(true) lets join return once taken tasks are done",
          "[queue][process]") {
  auto mgr = Manager::spawn();
  auto q = mgr.joinable_queue<int>("jq");
  q.put_many(std::vector<int>{1, 2, 3, 4});
  CHECK(q.get() == 1);  // taken, not yet done
  test::Pipe joined;
  pid_t joiner = test::fork_child([&] {
    q.join();
    joined.write("j");
  });
  REQUIRE(wait_status(q, [](auto s) { return s.joiners == 1; }));
  q.shutdown(true);  // drops 2, 3, 4: they count as done
  auto s = status(q);
  CHECK(s.unfinished == 1);
  CHECK(s.size == 0);
  q.task_done();
  CHECK(joined.read(1) == "j");
  CHECK(test::wait_child(joiner) == 0);
  CHECK(q.join(0s));
}
