// Pool: every API call, callbacks, laziness, dead and stopped workers,
// remote workers over TCP, signatures. Real processes and sockets.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <mpshare/mpshare.hpp>
#include <numeric>
#include <ranges>
#include <set>
#include <stdexcept>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;
using mpshare::test::fork_child;
using mpshare::test::wait_child;

namespace {

int square(int x) {
  return x * x;
}
int add(int a, int b) {
  return a + b;
}
std::string shout(std::string s, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += s + "!";
  return out;
}
int fails_on_3(int x) {
  if (x == 3) throw std::invalid_argument("three is not allowed");
  return x;
}
std::int64_t worker_pid(int) {
  return ::getpid();
}
int g_initialized = 0;
void initialize() {
  g_initialized = 42;
}
int initialized_value(int) {
  return g_initialized;
}
int nap_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

// Shared with every worker: made before the pool forks its fork server.
struct Shared {
  std::atomic<int> hung{0};
  std::atomic<int> started{0};
};
Shared* g_shared = nullptr;
int g_report_fd = -1;  // workers write their pid here when a marked task starts

Shared* make_shared_page() {
  void* p =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  return new (p) Shared;
}

void report_pid() {
  pid_t pid = ::getpid();
  [[maybe_unused]] auto n = ::write(g_report_fd, &pid, sizeof pid);
}

// Task 5 hangs the first time it runs, after reporting its worker's pid.
int hang_once(int x) {
  if (x == 5 && g_shared->hung.exchange(1) == 0) {
    report_pid();
    for (int i = 0; i < 300; ++i) std::this_thread::sleep_for(100ms);
  }
  return x * 2;
}

// Task 4 kills its worker, every time.
int kills_on_4(int x) {
  if (x == 4) ::kill(::getpid(), SIGKILL);
  return x + 100;
}

// Reports its pid, then works a little: lets a test stop a worker mid-task.
int report_then_nap(int x) {
  report_pid();
  std::this_thread::sleep_for(20ms);
  return x + 1;
}

// A result whose decoding throws: negative values are refused when read.
struct Checked {
  int value = 0;
  template <class Ar>
  void save(Ar& ar) const {
    ar(value);
  }
  template <class Ar>
  void load(Ar& ar) {
    ar(value);
    if (value < 0) throw std::invalid_argument("a Checked is never negative");
  }
};
Checked make_checked(int x) {
  return Checked{x};
}

pid_t read_pid(mpshare::test::Pipe& p) {
  std::string s = p.read(sizeof(pid_t), 30s);
  pid_t pid;
  std::memcpy(&pid, s.data(), sizeof pid);
  return pid;
}

std::vector<int> iota_vec(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::string tcp_address(const mpshare::Manager& m) {
  for (const auto& a : m.addresses())
    if (a.rfind("tcp://", 0) == 0) return a;
  FAIL("no tcp address");
  return {};
}

mpshare::Manager spawn_with_tcp() {
  mpshare::SpawnOptions o;
  o.extra_listen = {"tcp://127.0.0.1:0"};
  return mpshare::Manager::spawn(o);
}

// Forks a remote worker that connects over `address` and serves `name`.
pid_t remote_worker(const std::string& address, const mpshare::AuthKey& key,
                    const std::string& name, mpshare::PoolOptions options) {
  return fork_child([=] {
    auto hub = mpshare::Manager::connect(address, key);
    mpshare::serve_pool(hub, name, options);
  });
}

}  // namespace

MPSHARE_TASK(square);
MPSHARE_TASK(add);
MPSHARE_TASK(shout);
MPSHARE_TASK(fails_on_3);
MPSHARE_TASK(worker_pid);
MPSHARE_TASK(report_then_nap);
MPSHARE_TASK(make_checked);

TEST_CASE("Pool: map, starmap, apply, apply_async, map_async", "[pool]") {
  mpshare::Pool pool(2);
  auto in = iota_vec(500);
  auto r = pool.map(square, in);
  REQUIRE(r.size() == 500);
  for (int i = 0; i < 500; ++i) REQUIRE(r[static_cast<std::size_t>(i)] == i * i);
  REQUIRE(pool.map(square, in, {.chunksize = 7}) == r);
  REQUIRE(pool.map(square, std::vector<int>{}).empty());

  std::vector<std::tuple<int, int>> pairs{{1, 2}, {3, 4}, {5, 6}};
  REQUIRE(pool.starmap(add, pairs) == std::vector<int>{3, 7, 11});
  auto sm = pool.starmap_async(add, pairs, {.chunksize = 2});
  REQUIRE(sm.get() == std::vector<int>{3, 7, 11});

  REQUIRE(pool.apply(square, 9) == 81);
  REQUIRE(pool.apply(shout, std::string("hi"), 2) == "hi!hi!");
  auto f = pool.apply_async(add, 20, 22);
  f.wait();
  REQUIRE(f.ready());
  REQUIRE(f.successful());
  REQUIRE(f.get() == 42);

  auto m = pool.map_async(square, in);
  REQUIRE(m.wait(30s));
  REQUIRE(m.get() == r);
}

TEST_CASE("Pool: plain functions and lambdas run on local workers", "[pool]") {
  mpshare::Pool pool(2);
  REQUIRE(pool.apply(nap_ms, 1) == 1);  // not registered
  auto twice = [](int x) { return 2 * x; };
  REQUIRE(pool.map(twice, iota_vec(10)) == std::vector<int>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18});
  REQUIRE(pool.apply([](std::string s) { return s.size(); }, std::string("abc")) == 3u);
}

TEST_CASE("Pool: AsyncResult timeouts, ready and successful", "[pool]") {
  mpshare::Pool pool(1);
  auto slow = pool.apply_async(nap_ms, 300);
  REQUIRE_FALSE(slow.ready());
  REQUIRE_THROWS_AS(slow.successful(), mpshare::StateError);
  REQUIRE_FALSE(slow.get(10ms).has_value());
  REQUIRE_FALSE(slow.wait(1ms));
  REQUIRE(slow.get(30s) == std::optional<int>(300));
  auto bad = pool.apply_async(fails_on_3, 3);
  bad.wait();
  REQUIRE_FALSE(bad.successful());
  REQUIRE_THROWS_AS(bad.get(), mpshare::TaskError);
}

TEST_CASE("Pool: callbacks run in the submitting process before join returns", "[pool]") {
  std::atomic<int> results{0}, errors{0};
  std::atomic<bool> other_process{false};
  std::string error_text;
  const pid_t me = ::getpid();
  {
    mpshare::Pool pool(2);
    for (int i = 0; i < 20; ++i)
      pool.apply_async(
          fails_on_3, std::tuple{i},
          [&](const int& v) {
            if (::getpid() != me) other_process = true;
            results += v >= 0;
          },
          [&](const mpshare::Error& e) {
            error_text = e.what();
            ++errors;
          });
    pool.close();
    pool.join();
    REQUIRE(results == 19);
    REQUIRE(errors == 1);
  }
  REQUIRE_FALSE(other_process);
  REQUIRE(error_text.find("three is not allowed") != std::string::npos);
}

TEST_CASE("Pool: a task's exception is a TaskError, map throws it, the pool goes on", "[pool]") {
  mpshare::Pool pool(2);
  try {
    pool.apply(fails_on_3, 3);
    FAIL("no exception");
  } catch (const mpshare::TaskError& e) {
    REQUIRE(e.type_name() == "std::invalid_argument");
    REQUIRE(e.message() == "three is not allowed");
    REQUIRE(std::string(e.what()).find("std::invalid_argument: three is not allowed") == 0);
  }
  REQUIRE_THROWS_AS(pool.map(fails_on_3, iota_vec(10), {.chunksize = 1}), mpshare::TaskError);
  REQUIRE_THROWS_AS(pool.map(fails_on_3, iota_vec(10)), mpshare::TaskError);
  REQUIRE(pool.map(square, iota_vec(3)) == std::vector<int>{0, 1, 4});
}

TEST_CASE("Pool: imap is in order, imap_unordered complete, both lazy", "[pool]") {
  mpshare::Pool pool(2);
  std::vector<int> got;
  for (int v : pool.imap(square, iota_vec(300))) got.push_back(v);
  REQUIRE(got.size() == 300);
  for (int i = 0; i < 300; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == i * i);

  std::multiset<int> un;
  for (int v : pool.imap_unordered(square, iota_vec(300), {.chunksize = 4})) un.insert(v);
  REQUIRE(un.size() == 300);
  for (int i = 0; i < 300; ++i) REQUIRE(un.count(i * i) == 1);

  // Ten million inputs: only those needed are read, and few are in flight.
  std::size_t read = 0;
  auto counted = std::views::iota(0, 10'000'000) | std::views::transform([&read](int i) {
                   ++read;
                   return i;
                 });
  auto lazy = pool.imap(square, counted);
  std::size_t n = 0;
  for (int v : lazy) {
    REQUIRE(v == static_cast<int>(n * n));
    REQUIRE(read <= n + 1 + 200);  // bounded in flight
    if (++n == 2000) break;
  }
  REQUIRE(read < 2400);

  std::size_t read2 = 0;
  auto counted2 = std::views::iota(0, 10'000'000) | std::views::transform([&read2](int i) {
                    ++read2;
                    return i % 1000;
                  });
  n = 0;
  for ([[maybe_unused]] int v : pool.imap_unordered(square, counted2, {.chunksize = 8})) {
    REQUIRE(read2 <= n + 8 * 200 + 8);
    if (++n == 1000) break;
  }
}

TEST_CASE("Pool: progress callback sees every item by the end", "[pool]") {
  mpshare::Pool pool(2);
  std::size_t last_done = 0, last_total = 0;
  auto r = pool.map(square, iota_vec(1000), {.chunksize = 10, .on_progress = [&](auto d, auto t) {
                                               last_done = d;
                                               last_total = t;
                                             }});
  REQUIRE(r.size() == 1000);
  REQUIRE(last_done == 1000);
  REQUIRE(last_total == 1000);
}

TEST_CASE("Pool: a worker killed mid-task: the map completes, correct", "[pool]") {
  g_shared = make_shared_page();
  mpshare::test::Pipe pids;
  g_report_fd = pids.write_fd();
  mpshare::Pool pool(2);
  auto m = pool.map_async(hang_once, iota_vec(40), {.chunksize = 1});
  const pid_t victim = read_pid(pids);
  REQUIRE(::kill(victim, SIGKILL) == 0);
  REQUIRE(m.wait(60s));
  auto r = m.get();
  for (int i = 0; i < 40; ++i) REQUIRE(r[static_cast<std::size_t>(i)] == 2 * i);
  // The dead worker was replaced.
  REQUIRE(pool.map(worker_pid, iota_vec(4), {.chunksize = 1}).size() == 4);
  pool.close();
  pool.join();
  ::munmap(g_shared, sizeof(Shared));
}

TEST_CASE("Pool: a task that always kills its worker fails alone with WorkerLost", "[pool]") {
  mpshare::Pool pool({.processes = 2, .max_attempts = 2});
  std::vector<mpshare::AsyncResult<int>> rs;
  for (int i = 0; i < 10; ++i) rs.push_back(pool.apply_async(kills_on_4, i));
  for (int i = 0; i < 10; ++i) {
    auto& r = rs[static_cast<std::size_t>(i)];
    REQUIRE(r.wait(60s));
    if (i == 4)
      REQUIRE_THROWS_AS(r.get(), mpshare::WorkerLost);
    else
      REQUIRE(r.get() == i + 100);
  }
  // Several in one map, in chunks of one: only that item fails.
  REQUIRE_THROWS_AS(pool.map(kills_on_4, iota_vec(12), {.chunksize = 1}), mpshare::WorkerLost);
  REQUIRE(pool.map(square, iota_vec(5)) == std::vector<int>{0, 1, 4, 9, 16});
}

TEST_CASE("Pool: task_timeout fails the task with TaskTimeout", "[pool]") {
  mpshare::Pool pool({.processes = 1, .task_timeout = 200ms});
  auto slow = pool.apply_async(nap_ms, 20000);
  REQUIRE(slow.wait(30s));
  REQUIRE_THROWS_AS(slow.get(), mpshare::TaskTimeout);
  REQUIRE(pool.apply(nap_ms, 1) == 1);
}

TEST_CASE("Pool: maxtasksperchild replaces workers, initializer runs in each", "[pool]") {
  mpshare::Pool pool({.processes = 1, .initializer = initialize, .maxtasksperchild = 2});
  auto pids = pool.map(worker_pid, iota_vec(10), {.chunksize = 1});
  std::set<std::int64_t> distinct(pids.begin(), pids.end());
  REQUIRE(distinct.size() >= 5);
  REQUIRE(distinct.count(::getpid()) == 0);
  auto values = pool.map(initialized_value, iota_vec(6), {.chunksize = 1});
  for (int v : values) REQUIRE(v == 42);
}

TEST_CASE("Pool: close finishes queued work, terminate stops it, ~Pool joins", "[pool]") {
  std::optional<mpshare::AsyncResult<int>> late;
  {
    mpshare::Pool pool(2);
    auto r = pool.apply_async(nap_ms, 50);
    REQUIRE_THROWS_AS(pool.join(), mpshare::StateError);
    pool.close();
    REQUIRE_THROWS_AS(pool.apply_async(square, 1), mpshare::StateError);
    pool.join();
    REQUIRE(r.ready());
    REQUIRE(r.get() == 50);
  }
  {
    mpshare::Pool pool(2);
    auto r = pool.apply_async(nap_ms, 30000);
    auto start = std::chrono::steady_clock::now();
    pool.terminate();
    pool.join();
    REQUIRE(std::chrono::steady_clock::now() - start < 10s);
    REQUIRE(r.wait(10s));
    REQUIRE_THROWS_AS(r.get(), mpshare::StateError);
  }
  {
    mpshare::Pool pool(1);
    late.emplace(pool.apply_async(nap_ms, 100));
  }  // ~Pool: close, then join
  REQUIRE(late->ready());
  REQUIRE(late->get() == 100);
}

TEST_CASE("Pool: remote workers over TCP serve a named pool until it closes", "[pool]") {
  auto mgr = spawn_with_tcp();
  const pid_t child = remote_worker(tcp_address(mgr), mgr.key(), "remote", {.processes = 2});
  {
    mpshare::Pool pool(mgr, "remote", {.processes = 0});
    auto r = pool.map(square, iota_vec(200), {.chunksize = 3});
    for (int i = 0; i < 200; ++i) REQUIRE(r[static_cast<std::size_t>(i)] == i * i);
    REQUIRE(pool.apply(shout, std::string("x"), 3) == "x!x!x!");
    auto pids = pool.map(worker_pid, iota_vec(20), {.chunksize = 1});
    for (auto p : pids) REQUIRE(p != ::getpid());
    // Plain functions need local workers.
    REQUIRE_THROWS_AS(pool.apply(nap_ms, 1), mpshare::ValueError);
    pool.close();
    pool.join();
  }
  REQUIRE(wait_child(child, 30s) == 0);
}

TEST_CASE("Pool: tasks wait for a worker that can run them", "[pool]") {
  auto mgr = spawn_with_tcp();
  mpshare::Pool pool(mgr, "later", {.processes = 0});
  auto r = pool.apply_async(square, 12);
  REQUIRE_FALSE(r.wait(100ms));
  const pid_t child = remote_worker(tcp_address(mgr), mgr.key(), "later", {.processes = 0});
  REQUIRE(r.get(30s) == std::optional<int>(144));
  pool.close();
  pool.join();
  REQUIRE(wait_child(child, 30s) == 0);
}

TEST_CASE("Pool: a stopped remote worker loses its lease, its tasks finish elsewhere", "[pool]") {
  auto mgr = spawn_with_tcp();
  mpshare::test::Pipe pids;
  g_report_fd = pids.write_fd();
  const mpshare::PoolOptions opts{.processes = 0, .lease = 300ms};
  const std::string tcp = tcp_address(mgr);
  const pid_t a = remote_worker(tcp, mgr.key(), "stopped", opts);
  const pid_t b = remote_worker(tcp, mgr.key(), "stopped", opts);
  {
    mpshare::Pool pool(mgr, "stopped", opts);
    auto m = pool.map_async(report_then_nap, iota_vec(30), {.chunksize = 1});
    const pid_t first = read_pid(pids);
    REQUIRE((first == a || first == b));
    REQUIRE(::kill(first, SIGSTOP) == 0);
    REQUIRE(m.wait(60s));
    auto r = m.get();
    for (int i = 0; i < 30; ++i) REQUIRE(r[static_cast<std::size_t>(i)] == i + 1);
    ::kill(first, SIGKILL);
    REQUIRE(wait_child(first, 30s) == 128 + SIGKILL);
    pool.close();
    pool.join();
    REQUIRE(wait_child(first == a ? b : a, 30s) == 0);
  }
}

TEST_CASE("Pool: a worker with another signature for a task is refused", "[pool]") {
  auto mgr = mpshare::Manager::spawn();
  mpshare::Pool pool(mgr, "signatures", {.processes = 0});
  char dir[] = "/tmp/mpshare-pool-test-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string keyfile = std::string(dir) + "/key";
  std::ofstream(keyfile, std::ios::binary) << mgr.key().bytes();
  mpshare::test::Pipe out;
  std::fflush(nullptr);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(out.write_fd(), 1);
    ::execl(MPSHARE_POOL_OTHER_SIGNATURE_PROGRAM, "pool_other_signature", mgr.address().c_str(),
            keyfile.c_str(), "signatures", nullptr);
    ::_exit(127);
  }
  out.close_write();
  const std::string text = out.read_to_end(30s);
  REQUIRE(wait_child(child, 30s) == 3);
  ::unlink(keyfile.c_str());
  ::rmdir(dir);
  INFO(text);
  REQUIRE(text.find("refused") != std::string::npos);
  REQUIRE(text.find("square") != std::string::npos);
  REQUIRE(text.find("int32(int32)") != std::string::npos);
  // The pool's own task still works once a worker joins (here: none needed).
  pool.close();
  pool.join();
}

TEST_CASE("Pool: a result that does not decode is a ProtocolError, the pool goes on", "[pool]") {
  mpshare::Pool pool(2);
  auto bad = pool.apply_async(make_checked, -5);
  REQUIRE_THROWS_AS(bad.get(), mpshare::ProtocolError);
  REQUIRE(pool.apply(make_checked, 5).value == 5);
  auto r = pool.map_async(make_checked, std::vector<int>{1, 2, -3, 4}, {.chunksize = 1});
  try {
    r.get();
    FAIL("no error");
  } catch (const mpshare::ProtocolError& e) {
    REQUIRE(std::string(e.what()).find("make_checked") != std::string::npos);
  }
  REQUIRE(pool.map(square, iota_vec(10))[9] == 81);
  pool.close();
  pool.join();
}

TEST_CASE("Pool: malformed result bytes from a worker are a ProtocolError", "[pool]") {
  namespace d = mpshare::detail;
  auto mgr = mpshare::Manager::spawn();
  mpshare::Pool pool(mgr, "garbled", {.processes = 0});
  // A hand-made worker on the wire, offering square with its true signature.
  auto core = mgr.core();
  const auto id = d::open_object(*core, "garbled", mpshare::Kind::task_pool, "task_pool",
                                 mpshare::ValueCode::opaque, mpshare::encode(d::PoolParams{}))
                      .object_id;
  const d::TaskFn* sq = d::registered_task(std::string("square"));
  REQUIRE(sq != nullptr);
  d::WorkerHello hello;
  hello.tasks = {{sq->name, sq->signature}};
  hello.pid = ::getpid();
  const auto welcome = core->call<d::op::PoolJoin>(id, hello);
  auto answer = [&](const std::string& data) {
    const std::int64_t wait = std::chrono::nanoseconds(30s).count();
    auto b = core->call_wait<d::op::PoolWork>(id, 30s, welcome.worker, d::TaskOutcomes{},
                                              std::uint32_t{1}, wait);
    REQUIRE(b.tasks.size() == 1);
    d::TaskOutcomes o{{b.tasks[0].id, b.tasks[0].claim, d::TaskStatus::ok, data}};
    core->call<d::op::PoolWork>(id, welcome.worker, o, std::uint32_t{0}, std::int64_t{0});
  };
  for (const std::string& garbage :
       {std::string("\xff\xff\xff"), std::string(), mpshare::encode(std::vector<int>{1, 2})}) {
    auto r = pool.apply_async(square, 7);
    answer(garbage);
    try {
      r.get();
      FAIL("no error");
    } catch (const mpshare::ProtocolError& e) {
      INFO(e.what());
      REQUIRE(std::string(e.what()).find("square") != std::string::npos);
    }
  }
  auto ok = pool.apply_async(square, 7);
  answer(mpshare::encode(std::vector<int>{49}));
  REQUIRE(ok.get() == 49);
  pool.close();
  pool.join();
}
