#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mpshare/mpshare.hpp>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

template <class C>
concept can_send = requires(C& c) {
  c.send(1);
};
template <class C>
concept can_recv = requires(C& c) {
  c.recv();
};

using Msg = std::tuple<int, std::string, std::vector<double>>;

}  // namespace

TEST_CASE("Pipe: duplex ends send and receive typed messages both ways", "[pipe]") {
  auto [a, b] = pipe<Msg>();
  CHECK(a.readable());
  CHECK(a.writable());
  Msg m{7, "seven", {1.5, 2.5}};
  a.send(m);
  b.send(Msg{8, "eight", {}});
  CHECK(b.recv() == m);
  CHECK(a.recv() == Msg{8, "eight", {}});

  auto [x, y] = pipe<std::map<std::string, int>>();
  x.send({{"a", 1}, {"b", 2}});
  CHECK(y.recv() == std::map<std::string, int>{{"a", 1}, {"b", 2}});
}

TEST_CASE("Pipe: send_bytes and recv_bytes carry raw bytes", "[pipe]") {
  auto [a, b] = pipe<int>();
  a.send_bytes(std::string("\0raw\xff", 5));
  CHECK(b.recv_bytes() == std::string("\0raw\xff", 5));
  CHECK_FALSE(b.recv_bytes(10ms));
  a.send_bytes("not an int");
  CHECK_THROWS_AS(b.recv(), ProtocolError);
  a.send(5);  // the stream is still in step
  CHECK(b.recv() == 5);
}

TEST_CASE("Pipe: recv on a closed and drained peer is EOFError", "[pipe]") {
  auto [a, b] = pipe<int>();
  a.send(1);
  a.send(2);
  a.close();
  CHECK(a.closed());
  CHECK(b.poll());
  CHECK(b.recv() == 1);
  CHECK(b.recv() == 2);
  CHECK(b.poll());  // end of file is ready too
  CHECK_THROWS_AS(b.recv(), EOFError);
  CHECK_THROWS_AS(b.recv(1s), EOFError);
  CHECK_THROWS_AS(a.send(3), StateError);
}

TEST_CASE("Pipe: send to a closed peer is ConnectionLost, never SIGPIPE", "[pipe]") {
  auto [a, b] = pipe<std::string>();
  b.close();
  CHECK_THROWS_AS(a.send("x"), ConnectionLost);
  CHECK_THROWS_AS(a.send(std::string(1 << 20, 'y')), ConnectionLost);
}

TEST_CASE("Pipe: recv timeout, poll and wait", "[pipe]") {
  auto [a, b] = pipe<int>();
  auto [rx, tx] = pipe<int>(Duplex::no);
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(b.recv(50ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_FALSE(b.poll());
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(b.poll(30ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 30ms);
  t0 = std::chrono::steady_clock::now();
  CHECK(wait({&b, &rx}, 30ms).empty());
  CHECK(std::chrono::steady_clock::now() - t0 >= 30ms);

  tx.send(4);
  CHECK(wait({&b, &rx}, 10s) == std::vector<ConnectionBase*>{&rx});
  a.send(3);
  CHECK(b.poll(10s));
  CHECK(wait({&b, &rx}) == std::vector<ConnectionBase*>{&b, &rx});
  CHECK(b.recv(0s) == 3);
  CHECK(rx.recv() == 4);
  CHECK(wait({&b, &rx}, 0s).empty());
}

TEST_CASE("Pipe: a message is ready to wait() while another is buffered", "[pipe]") {
  auto [a, b] = pipe<int>();
  a.send(1);
  a.send(2);
  CHECK(b.recv() == 1);  // both were read from the socket at once
  CHECK(wait({&b}, 0s).size() == 1);
  CHECK(b.poll());
  CHECK(b.recv() == 2);
  CHECK_FALSE(b.poll());
}

TEST_CASE("Pipe: simplex ends refuse the wrong direction", "[pipe]") {
  auto [rx, tx] = pipe<int>(Duplex::no);
  CHECK(rx.readable());
  CHECK_FALSE(rx.writable());
  CHECK(tx.writable());
  CHECK_FALSE(tx.readable());
  CHECK_THROWS_AS(rx.send(1), StateError);
  CHECK_THROWS_AS(tx.recv(), StateError);
  CHECK_THROWS_AS(tx.poll(), StateError);
  tx.send(1);
  CHECK(rx.recv() == 1);

  auto [r, t] = pipe<int, Duplex::no>();
  static_assert(!can_send<decltype(r)>);
  static_assert(can_recv<decltype(r)>);
  static_assert(can_send<decltype(t)>);
  static_assert(!can_recv<decltype(t)>);
  static_assert(can_send<Connection<int>> && can_recv<Connection<int>>);
  t.send(2);
  CHECK(r.recv() == 2);
  t.close();
  CHECK_THROWS_AS(r.recv(), EOFError);
}

TEST_CASE("Pipe: an oversize message is a clear error, the connection stays usable", "[pipe]") {
  auto [a, b] = pipe<std::string>(Duplex::yes, {.max_message = 1000});
  CHECK(a.max_message() == 1000);
  CHECK_THROWS_AS(a.send(std::string(2000, 'x')), ValueError);
  a.send("fine");
  CHECK(b.recv() == "fine");

  // The receiver's limit: a bigger message from a process is dropped, the next arrives.
  a.set_max_message(std::size_t{8} << 20);
  Process sender(
      [](Connection<std::string> out) {
        out.send(std::string(4 << 20, 'y'));
        out.send("after");
      },
      std::move(a));
  sender.start();
  try {
    b.recv();
    FAIL("no error");
  } catch (const ValueError& e) {
    CHECK(std::string(e.what()).find("over the maximum of 1000") != std::string::npos);
  }
  CHECK(b.recv(30s) == "after");
  CHECK_THROWS_AS(b.recv(30s), EOFError);
  sender.join();
  CHECK(sender.exitcode() == 0);
}

TEST_CASE("Pipe: a 1 MiB message arrives whole", "[pipe]") {
  auto [a, b] = pipe<std::string>();
  std::string big(1 << 20, 'z');
  big[12345] = 'q';
  Process p([&big](Connection<std::string> out) { out.send(big); }, std::move(a));
  p.start();
  CHECK(b.recv() == big);
  p.join();
  CHECK(p.exitcode() == 0);
}

TEST_CASE("Pipe: EOF through Processes, the end given to the child closed in the parent",
          "[pipe][proc]") {
  const std::size_t fds = test::open_fds();
  SECTION("the child sends six messages and closes") {
    auto [a, b] = pipe<std::string>();
    Process p(
        [](Connection<std::string> out) {
          for (int i = 0; i < 6; ++i) out.send("message " + std::to_string(i));
        },
        std::move(b));
    p.start();
    std::vector<std::string> got;
    try {
      for (;;) got.push_back(a.recv());
    } catch (const EOFError&) {
    }
    CHECK(got.size() == 6);
    CHECK(got.back() == "message 5");
    p.join();
    CHECK(p.exitcode() == 0);
  }
  SECTION("the parent sends six messages and closes, the child reads to EOF") {
    auto [rx, tx] = pipe<int>(Duplex::no);
    Process p(
        [](Connection<int> in) {
          int n = 0;
          try {
            for (;;) n += in.recv();
          } catch (const EOFError&) {
          }
          std::exit(n);
        },
        std::move(rx));
    p.start();
    for (int i = 1; i <= 6; ++i) tx.send(i);
    tx.close();
    p.join();
    CHECK(p.exitcode() == 21);
  }
  CHECK(test::open_fds() == fds);
}

TEST_CASE("Pipe: a peer killed in the middle of a message is a clear error, no hang",
          "[pipe][proc]") {
  auto [a, b] = pipe<std::string>();
  Process p(
      [](Connection<std::string> out) {
        ::signal(SIGTERM, SIG_DFL);
        unsigned char frame[8 + 10] = {100};  // says 100 bytes, gives 10
        if (::write(out.fileno(), frame, sizeof frame) != sizeof frame) std::exit(3);
        ::pause();
      },
      std::move(b));
  p.start();
  REQUIRE(a.poll(30s));
  CHECK_FALSE(a.recv(0ms));  // half a message: not ready
  p.kill();
  p.join();
  CHECK(p.exitcode() == -SIGKILL);
  try {
    a.recv(30s);
    FAIL("no error");
  } catch (const ConnectionLost& e) {
    CHECK(std::string(e.what()).find("middle of a message") != std::string::npos);
  }
}

TEST_CASE("Pipe: one sender and one receiver thread on the same end", "[pipe]") {
  auto [a, b] = pipe<int>();
  constexpr int n = 20000;
  std::thread echo([&b] {
    for (int i = 0; i < n; ++i) b.send(b.recv() * 2);
  });
  std::thread sender([&a] {
    for (int i = 0; i < n; ++i) a.send(i);
  });
  long long sum = 0;
  for (int i = 0; i < n; ++i) sum += a.recv();
  sender.join();
  echo.join();
  CHECK(sum == 2LL * n * (n - 1) / 2);
}

TEST_CASE("Pipe: ends move, a moved-from end is closed", "[pipe]") {
  auto [a, b] = pipe<int>();
  Connection<int> c = std::move(a);
  CHECK(a.closed());
  CHECK(a.fileno() == -1);
  CHECK_THROWS_AS(a.send(1), StateError);
  c.send(1);
  CHECK(b.recv() == 1);
  b = std::move(c);  // closes b's old descriptor
  CHECK_THROWS_AS(b.recv(0s), EOFError);
}
