#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mpshare/mpshare.hpp>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

// True once `pid` is no longer a process at all (reaped, not a zombie).
bool reaped(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Blocks until the test pipe's writers are gone (its own copy of the write
// end closed first).
void wait_for_close(int read_fd, int write_fd) {
  ::close(write_fd);
  char c;
  while (::read(read_fd, &c, 1) > 0) {
  }
}

// Written to by an atexit handler, which must never run in a child.
int g_atexit_fd = -1;

}  // namespace

TEST_CASE("Process: exit codes follow Python", "[proc]") {
  SECTION("a normal return is 0") {
    Process p([] {});
    CHECK_FALSE(p.exitcode());
    p.start();
    p.join();
    CHECK(p.exitcode() == 0);
    CHECK_FALSE(p.is_alive());
  }
  SECTION("a thrown exception is 1, its type and what() on stderr") {
    test::Pipe err;
    Process p(
        [](int fd) {
          ::dup2(fd, 2);
          throw std::invalid_argument("bad input 42");
        },
        err.write_fd());
    p.start();
    err.close_write();
    std::string text = err.read_to_end(30s);
    p.join();
    CHECK(p.exitcode() == 1);
    CHECK(text.find(p.name()) != std::string::npos);
    CHECK(text.find("std::invalid_argument") != std::string::npos);
    CHECK(text.find("bad input 42") != std::string::npos);
  }
  SECTION("a thrown non-exception is 1 too") {
    Process p([] { throw 5; });
    p.start();
    p.join();
    CHECK(p.exitcode() == 1);
  }
  SECTION("std::exit(n) is n, without the parent's atexit handlers") {
    static bool registered = false;
    if (!registered) {
      std::atexit([] {
        if (g_atexit_fd >= 0) (void)!::write(g_atexit_fd, "X", 1);
      });
      registered = true;
    }
    test::Pipe marks;
    g_atexit_fd = marks.write_fd();
    Process p([] { std::exit(7); });
    p.start();
    g_atexit_fd = -1;
    marks.close_write();
    CHECK(marks.read_to_end(30s).empty());
    p.join();
    CHECK(p.exitcode() == 7);
  }
  SECTION("a signal N is -N") {
    test::Pipe hold;
    Process p(wait_for_close, hold.read_fd(), hold.write_fd());
    p.start();
    p.kill();
    p.join();
    CHECK(p.exitcode() == -SIGKILL);
    test::Pipe ready;
    Process q(
        [](int r, int w, int ready_fd) {
          ::signal(SIGTERM, SIG_DFL);  // not the test framework's handler
          (void)!::write(ready_fd, "r", 1);
          wait_for_close(r, w);
        },
        hold.read_fd(), hold.write_fd(), ready.write_fd());
    q.start();
    ready.read(1);
    q.terminate();
    q.join();
    CHECK(q.exitcode() == -SIGTERM);
    Process r([] {
      ::signal(SIGSEGV, SIG_DFL);
      ::raise(SIGSEGV);
    });
    r.start();
    r.join();
    CHECK(r.exitcode() == -SIGSEGV);
  }
}

TEST_CASE("Process: arguments are copied, moved-only ones moved", "[proc]") {
  test::Pipe out;
  auto payload = std::make_unique<std::string>("moved");
  std::string copied = "copied";
  Process p(
      [](int fd, std::unique_ptr<std::string> m, std::string c, const char* lit) {
        std::string s = *m + " " + c + " " + lit;
        if (::write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size())) std::exit(3);
      },
      out.write_fd(), std::move(payload), copied, "lit");
  copied = "changed";
  p.start();
  out.close_write();
  CHECK(out.read_to_end(30s) == "moved copied lit");
  p.join();
  CHECK(p.exitcode() == 0);
}

TEST_CASE("Process: timed join, is_alive, sentinel", "[proc]") {
  test::Pipe hold;
  Process p(wait_for_close, hold.read_fd(), hold.write_fd());
  CHECK(p.sentinel() == -1);
  CHECK(p.pid() == 0);
  p.start();
  CHECK(p.pid() > 0);
  CHECK(p.is_alive());
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(p.join(50ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_FALSE(p.exitcode());
  pollfd pf{p.sentinel(), POLLIN, 0};
  CHECK(::poll(&pf, 1, 0) == 0);
  hold.close_write();
  CHECK(p.join(30s));
  CHECK(p.exitcode() == 0);
  CHECK(::poll(&pf, 1, 0) == 1);
  CHECK(p.join(0s));
}

TEST_CASE("Process: misuse is a StateError", "[proc]") {
  Process p([] {});
  CHECK_THROWS_AS(p.join(), StateError);
  CHECK_THROWS_AS(p.join(1ms), StateError);
  CHECK_THROWS_AS(p.terminate(), StateError);
  p.start();
  CHECK_THROWS_AS(p.start(), StateError);
  p.join();
  p.kill();  // reaped already: nothing happens
  CHECK(p.exitcode() == 0);
}

TEST_CASE("Process: ~Process joins a started child, a daemon is killed", "[proc]") {
  test::Pipe go;
  test::Pipe done;
  pid_t pid = 0;
  {
    Process p(
        [](int in, int out) {
          char c;
          if (::read(in, &c, 1) == 1) (void)!::write(out, "d", 1);
        },
        go.read_fd(), done.write_fd());
    p.start();
    pid = p.pid();
    go.write("g");
  }  // joins
  CHECK(reaped(pid));
  done.close_write();
  CHECK(done.read_to_end(10s) == "d");

  test::Pipe hold;
  {
    Process d({.name = "sleeper", .daemon = true}, wait_for_close, hold.read_fd(), hold.write_fd());
    d.start();
    pid = d.pid();
    CHECK(d.daemon());
  }  // kills: the hold pipe is still open
  CHECK(reaped(pid));
}

TEST_CASE("Process: a daemon dies with its parent, even after kill -9", "[proc]") {
  for (bool kill9 : {true, false}) {
    test::Pipe report;
    test::Pipe hold;
    pid_t parent = test::fork_child([&] {
      Process d({.daemon = true}, wait_for_close, hold.read_fd(), hold.write_fd());
      d.start();
      pid_t pid = d.pid();
      report.write(std::string(reinterpret_cast<const char*>(&pid), sizeof pid));
      if (!kill9) ::_exit(0);  // no destructor: only the kernel can end the daemon
      wait_for_close(hold.read_fd(), hold.write_fd());
    });
    std::string bytes = report.read(sizeof(pid_t));
    pid_t daemon_pid;
    std::memcpy(&daemon_pid, bytes.data(), sizeof daemon_pid);
    if (kill9) ::kill(parent, SIGKILL);
    CHECK(test::wait_child(parent, 30s) == (kill9 ? 128 + SIGKILL : 0));
    CHECK(test::wait_gone(daemon_pid, 30s));  // while hold's write end is still open here
  }
}

TEST_CASE("Process: names, current_process, active_children", "[proc]") {
  CHECK(current_process().name() == "MainProcess");
  CHECK_FALSE(current_process().daemon());
  CHECK(current_process().pid() == ::getpid());
  test::Pipe out;
  test::Pipe hold;
  auto report = [](int fd, int hold_r, int hold_w) {
    std::string s = current_process().name() + (current_process().daemon() ? " d" : " -");
    (void)!::write(fd, s.data(), s.size());
    wait_for_close(hold_r, hold_w);
  };
  Process a(report, out.write_fd(), hold.read_fd(), hold.write_fd());
  Process b({.name = "named", .daemon = true}, report, out.write_fd(), hold.read_fd(),
            hold.write_fd());
  CHECK(a.name().rfind("Process-", 0) == 0);
  CHECK(b.name() == "named");
  CHECK(active_children().empty());
  a.start();
  b.start();
  auto kids = active_children();
  std::sort(kids.begin(), kids.end());
  std::vector<pid_t> want{a.pid(), b.pid()};
  std::sort(want.begin(), want.end());
  CHECK(kids == want);
  out.close_write();
  hold.close_write();
  std::string text = out.read_to_end(30s);
  CHECK(text.find(a.name() + " -") != std::string::npos);
  CHECK(text.find("named d") != std::string::npos);
  a.join();
  b.join();
  CHECK(active_children().empty());
}

TEST_CASE("Process: a child's children are named under it", "[proc]") {
  test::Pipe out;
  Process outer(
      [](int fd) {
        Process inner([fd] {
          const std::string& s = current_process().name();
          (void)!::write(fd, s.data(), s.size());
        });
        inner.start();
        inner.join();
        if (inner.exitcode() != 0) std::exit(2);
      },
      out.write_fd());
  outer.start();
  out.close_write();
  std::string id = outer.name().substr(std::string("Process-").size());
  CHECK(out.read_to_end(30s) == "Process-" + id + ":1");
  outer.join();
  CHECK(outer.exitcode() == 0);
}

TEST_CASE("Process: cpu_count is this process's affinity", "[proc]") {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  CHECK(cpu_count() == static_cast<std::size_t>(CPU_COUNT(&set)));
  CHECK(cpu_count() >= 1);
}

TEST_CASE("Process: started from a parent with threads", "[proc]") {
  std::mutex busy;
  std::unique_lock held(busy);  // another thread's lock, held across the fork
  std::thread other([&] { std::lock_guard g(busy); });
  Process p([](int n) { std::exit(n + 1); }, 41);
  std::thread starter([&] { p.start(); });
  starter.join();
  p.join();
  CHECK(p.exitcode() == 42);
  held.unlock();
  other.join();
}

TEST_CASE("Process: a Manager copied into the child keeps serving", "[proc]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, int>("d");
  Process p([&mgr] {
    auto dd = mgr.dict<std::string, int>("d");
    dd.set("child", 1);
  });
  p.start();
  p.join();
  CHECK(p.exitcode() == 0);
  CHECK(d.get("child") == 1);
  d.set("after", 2);
  CHECK(d.get("after") == 2);
}
