// Manager::spawn runs the mpshare-server program: where it is found, what
// the spawning process's state does not leak into it, and the private
// directory, socket and key it gets.
#include "proxy/spawn.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mpshare/mpshare.hpp>
#include <mutex>
#include <thread>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

// Resident set size of process `pid` in KiB (VmRSS in /proc/PID/status).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  throw std::runtime_error("no VmRSS for " + std::to_string(pid));
}

// Sets an environment variable for one scope (tests run on one thread).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string spawn_error(const SpawnOptions& o) {
  try {
    Manager::spawn(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("spawn: the server gets a private 0700 directory, a 0600 socket and its own pid",
          "[spawn]") {
  auto mgr = Manager::spawn();
  const std::string socket = mgr.address().substr(5);
  struct stat dir {
  }, sock{};
  REQUIRE(::stat(std::filesystem::path(socket).parent_path().c_str(), &dir) == 0);
  REQUIRE(::stat(socket.c_str(), &sock) == 0);
  CHECK((dir.st_mode & 0777) == 0700);
  CHECK((sock.st_mode & 0777) == 0600);
  CHECK(S_ISSOCK(sock.st_mode));
  CHECK(mgr.server_pid() != ::getpid());
  CHECK(mgr.key().bytes().size() == 32);
  CHECK(Manager::spawn().key() != mgr.key());
  // Nothing of this process's but stdio reaches the server.
  std::size_t fds = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(mgr.server_pid()) + "/fd")) {
    (void)e;
    ++fds;
  }
  CHECK(fds < 16);
}

TEST_CASE("spawn: from a process running 4 threads, each spawning and holding locks", "[spawn]") {
  std::mutex held;  // a lock another thread holds while the server starts
  std::vector<std::thread> threads;
  std::vector<pid_t> servers(4, 0);
  std::vector<std::int64_t> sums(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto mgr = Manager::spawn();
      servers[t] = mgr.server_pid();
      auto d = mgr.dict<int, std::int64_t>("d");
      for (;;) {
        std::lock_guard g(held);
        std::vector<char> churn(4096 * (t + 1), 'x');  // the allocator busy too
        d[t] += static_cast<std::int64_t>(churn.size() > 0);
        if (d.get(t) >= 50) break;
      }
      sums[t] = d.get(t);
    });
  }
  {
    std::unique_lock g(held);
    auto mgr = Manager::spawn();  // while another thread may wait on `held`
    g.unlock();
    auto l = mgr.list<int>("l");
    l.append(1);
    CHECK(l.size() == 1);
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    CHECK(sums[t] >= 50);
    CHECK(servers[t] > 0);
    CHECK(test::wait_gone(servers[t], 5s));
  }
}

TEST_CASE("spawn: after touching 2 GiB the server's memory is its own and stays small",
          "[spawn][process]") {
  test::Pipe p;
  pid_t child = test::fork_child([&] {
    constexpr std::size_t big = std::size_t{2} << 30;
    auto* mem = static_cast<char*>(std::malloc(big));
    if (!mem) throw std::runtime_error("cannot allocate 2 GiB");
    std::memset(mem, 1, big);
    auto mgr = Manager::spawn();
    auto d = mgr.dict<int, int>("d");
    d.set(1, 1);
    const long self_kib = rss_kib(::getpid());
    long server_kib = rss_kib(mgr.server_pid());
    std::memset(mem, 2, big);  // every page written again while the server runs
    for (int i = 0; i < 1000; ++i) d.set(i, i);
    server_kib = std::max(server_kib, rss_kib(mgr.server_pid()));
    p.write(std::to_string(self_kib) + " " + std::to_string(server_kib) + "\n");
    std::free(mem);
  });
  std::string line;
  while (line.empty() || line.back() != '\n') line += p.read(1, 60s);
  CHECK(test::wait_child(child) == 0);
  const long self_kib = std::stol(line);
  const long server_kib = std::stol(line.substr(line.find(' ')));
  INFO("spawning process " << self_kib << " KiB, server " << server_kib << " KiB");
  CHECK(self_kib > 2L * 1024 * 1024);
  // An eighth of what the spawning process touched: the 2 GiB are not shared
  // (the bound leaves room for a sanitizer build's shadow memory).
  CHECK(server_kib < 256L * 1024);
}

TEST_CASE("spawn: a missing server program is an error naming where it looked", "[spawn]") {
  SECTION("SpawnOptions::server_program") {
    SpawnOptions o;
    o.server_program = "/nonexistent/mpshare-server";
    std::string what = spawn_error(o);
    CHECK_THAT(what, Catch::Contains("SpawnOptions::server_program") &&
                         Catch::Contains("/nonexistent/mpshare-server") &&
                         Catch::Contains("No such file"));
  }
  SECTION("$MPSHARE_SERVER") {
    ScopedEnv env("MPSHARE_SERVER", "/nonexistent/from-env");
    CHECK_THAT(spawn_error({}),
               Catch::Contains("$MPSHARE_SERVER") && Catch::Contains("/nonexistent/from-env"));
  }
  SECTION("a directory is not a program") {
    SpawnOptions o;
    o.server_program = "/tmp";
    CHECK_THAT(spawn_error(o), Catch::Contains("not a regular file"));
  }
  SECTION("nothing set and nothing installed or built") {
    std::string what;
    try {
      detail::find_server_program(
          {"", "", "/nonexistent/bin/mpshare-server", "/nonexistent/build"});
    } catch (const Error& e) {
      what = e.what();
    }
    CHECK_THAT(what, Catch::Contains("SpawnOptions::server_program (not set)") &&
                         Catch::Contains("$MPSHARE_SERVER (not set)") &&
                         Catch::Contains("/nonexistent/bin/mpshare-server") &&
                         Catch::Contains("/nonexistent/build"));
  }
  SECTION("the search order") {
    using detail::find_server_program;
    const std::string real = MPSHARE_SERVER_BINARY;
    CHECK(find_server_program({real, "/x", "/y", "/z"}) == real);
    CHECK(find_server_program({"", real, "/y", "/z"}) == real);
    CHECK(find_server_program({"", "", real, "/z"}) == real);
    CHECK(find_server_program({"", "", "/y", real}) == real);
  }
}

TEST_CASE("spawn: without $MPSHARE_SERVER the installed or build tree's program runs", "[spawn]") {
  ScopedEnv env("MPSHARE_SERVER", nullptr);
  auto mgr = Manager::spawn();
  mgr.ping();
}
