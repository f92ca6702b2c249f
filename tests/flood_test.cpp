// Connection floods and authentication hygiene: caps on connections, the
// accept loop out of descriptors, small buffers, short and exposed keys,
// and peers that keep failing the handshake.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mpshare/mpshare.hpp>
#include <thread>

#include "program.hpp"
#include "raw_client.hpp"
#include "server/net/frame_reader.hpp"
#include "server/server.hpp"

using namespace mpshare;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// A server spawned through a shell wrapper: `before` runs first (e.g.
// "ulimit -n 48"), `args` are added to the server's command line.
Manager spawn_with(const std::string& before, const std::string& args, SpawnOptions options = {}) {
  test::TempDir dir;
  const std::string wrapper = dir / "server";
  std::ofstream(wrapper) << "#!/bin/sh\n"
                         << before << "\nexec '" MPSHARE_SERVER_BINARY "' \"$@\" " << args << "\n";
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  options.server_program = wrapper;
  return Manager::spawn(options);
}

// CPU time (user + system) process `pid` has used.
duration<double> cpu_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i < 14; ++i) rest >> field;  // up to utime, field 14
  long utime = 0, stime = 0;
  rest >> utime >> stime;
  return duration<double>(double(utime + stime) / double(::sysconf(_SC_CLK_TCK)));
}

// Connects to the TCP address "tcp://127.0.0.1:PORT" from local address
// `from` (any 127.x.y.z is this host on Linux), so tests can be several peers.
std::unique_ptr<test::RawClient> tcp_from(const std::string& address, const char* from) {
  const auto port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &src.sin_addr);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0);
  return std::make_unique<test::RawClient>(fd);
}

std::string tcp_address(const Manager& mgr) {
  for (const auto& a : mgr.addresses())
    if (a.rfind("tcp://", 0) == 0) return a;
  FAIL("no tcp address");
  return {};
}

// One wrong-key handshake: the time from sending the answer to the verdict.
duration<double> wrong_key_attempt(test::RawClient& c) {
  auto hello = c.read(detail::server_hello_size);
  REQUIRE(hello);
  const std::string wrong(32, 'w');
  c.send(detail::client_answer(wrong, detail::read_server_hello(*hello), detail::random_nonce()));
  const auto t = steady_clock::now();
  auto verdict = c.read(detail::server_verdict_size);
  REQUIRE(verdict);
  CHECK((*verdict)[0] != 0);
  return steady_clock::now() - t;
}

}  // namespace

TEST_CASE(
    "flood: idle connections beyond the unauthenticated cap drop the oldest, and a good "
    "client still gets in",
    "[flood]") {
  Manager mgr = spawn_with("", "--max-unauthenticated 16");
  std::vector<std::unique_ptr<test::RawClient>> flood;
  for (int i = 0; i < 200; ++i) flood.push_back(std::make_unique<test::RawClient>(mgr.address()));
  // Accepted after the whole flood, and served within a second.
  const auto t = steady_clock::now();
  Manager good = Manager::connect(mgr.address(), mgr.key());
  good.ping();
  CHECK(steady_clock::now() - t < 1s);
  // The oldest idle connections were closed to make room.
  for (int i = 0; i < 100; ++i) CHECK(flood[i]->closed_by_peer(5000));
  mgr.ping();
}

TEST_CASE("flood: connections beyond --max-clients are refused", "[flood]") {
  Manager mgr = spawn_with("", "--max-clients 4");
  mgr.ping();
  std::vector<std::unique_ptr<test::RawClient>> held;
  bool refused = false;
  while (!refused && held.size() < 8) {
    held.push_back(std::make_unique<test::RawClient>(mgr.address()));
    refused = !held.back()->handshake(mgr.key().bytes());
  }
  REQUIRE(refused);
  held.pop_back();
  CHECK(held.size() <= 3);
  CHECK(held.size() >= 1);
  mgr.ping();
  // Room again once one leaves.
  held.pop_back();
  const auto deadline = steady_clock::now() + 5s;
  bool admitted = false;
  while (!admitted && steady_clock::now() < deadline)
    admitted = test::RawClient(mgr.address()).handshake(mgr.key().bytes());
  CHECK(admitted);
}

TEST_CASE(
    "flood: out of descriptors, the server pauses accepting instead of spinning, and "
    "recovers",
    "[flood]") {
  Manager mgr = spawn_with("ulimit -n 48", "");
  const pid_t server = mgr.server_pid();
  REQUIRE(server > 0);
  mgr.ping();  // this thread's connection is made before descriptors run out
  // Authenticated connections until the server has no descriptor left.
  std::vector<std::unique_ptr<test::RawClient>> held;
  bool full = false;
  while (!full && held.size() < 64) {
    held.push_back(std::make_unique<test::RawClient>(mgr.address()));
    full = !held.back()->handshake(mgr.key().bytes(), 2000);
  }
  REQUIRE(full);
  held.pop_back();
  // Connections keep waiting in the backlog. Over a one-second window the
  // server must not spin on the failing accept (a busy loop takes a core).
  std::vector<std::unique_ptr<test::RawClient>> waiting;
  for (int i = 0; i < 40; ++i) waiting.push_back(std::make_unique<test::RawClient>(mgr.address()));
  const auto cpu0 = cpu_time(server);
  const auto t0 = steady_clock::now();
  std::this_thread::sleep_for(1s);  // the measurement window, not a synchronization
  const auto cpu = cpu_time(server) - cpu0;
  INFO("server CPU " << cpu.count() << " s over "
                     << duration<double>(steady_clock::now() - t0).count() << " s");
  CHECK(cpu < 250ms);
  mgr.ping();  // connections already in are served meanwhile
  // Descriptors free again: a new client gets in within a few seconds.
  held.resize(held.size() / 2);
  waiting.clear();
  const auto deadline = steady_clock::now() + 5s;
  bool in = false;
  while (!in && steady_clock::now() < deadline) {
    try {
      Manager::connect(mgr.address(), mgr.key()).ping();
      in = true;
    } catch (const Error&) {
    }
  }
  CHECK(in);
}

TEST_CASE("flood: a connection's read buffer starts small and grows as bytes arrive", "[flood]") {
  server::FrameReader r;
  CHECK(r.prepare().size() <= 512);
  // A frame declaring 1 MiB: the buffer grows with what arrived.
  std::string frame(detail::FrameHeader::size + (1 << 20), 'x');
  detail::write_header({1 << 20, 1, 0, 1, 0}, frame.data());
  std::size_t fed = 0;
  while (fed < frame.size()) {
    std::span<char> room = r.prepare();
    CHECK(room.size() <= std::max<std::size_t>(512, 2 * fed));
    const std::size_t n = std::min(room.size(), frame.size() - fed);
    std::memcpy(room.data(), frame.data() + fed, n);
    r.commit(n);
    fed += n;
  }
  detail::FrameHeader h;
  std::string_view payload;
  REQUIRE(r.next(1 << 21, h, payload) == server::FrameReader::Next::frame);
  CHECK(payload.size() == std::size_t(1) << 20);
  // A small frame after it gives the large buffer back.
  std::string small(detail::FrameHeader::size, '\0');
  detail::write_header({0, 1, 0, 2, 0}, small.data());
  std::span<char> room = r.prepare();
  std::memcpy(room.data(), small.data(), small.size());
  r.commit(small.size());
  REQUIRE(r.next(1 << 21, h, payload) == server::FrameReader::Next::frame);
  CHECK(r.prepare().size() <= 64 * 1024);
}

TEST_CASE("auth: keys shorter than 16 bytes are refused by clients and servers", "[flood][auth]") {
  CHECK_THROWS_AS(Manager::connect("unix:/nonexistent/s.sock", AuthKey::from_string("short")),
                  ValueError);
  CHECK_THROWS_WITH(Manager::connect("unix:/nonexistent/s.sock", AuthKey::from_string("x")),
                    Catch::Contains("at least 16"));
  SpawnOptions options;
  options.key = AuthKey::from_string("fifteen bytes..");
  CHECK_THROWS_AS(Manager::spawn(options), ValueError);
  options.key = AuthKey::from_string("sixteen bytes...");
  Manager::spawn(options).ping();

  server::ServerOptions o;
  o.listen = {"tcp://127.0.0.1:0"};
  o.handle_signals = false;
  o.key = "k";
  CHECK_THROWS_AS(server::Server(o), ValueError);

  test::TempDir dir;
  const std::string key = dir / "key";
  std::ofstream(key) << "short";
  std::filesystem::permissions(
      key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CHECK_THROWS_AS(AuthKey::from_file(key), ValueError);
  const auto r = test::run_program(
      {MPSHARE_SERVER_BINARY, "--listen", "unix:" + (dir / "s.sock"), "--authkey-file", key}, 10s);
  const std::string out = r.out + r.err;
  CHECK(out.find("listening on") == std::string::npos);
  CHECK(out.find("at least 16") != std::string::npos);
}

TEST_CASE("auth: the server warns when the key file is readable by others", "[flood][auth]") {
  test::TempDir dir;
  const std::string key = dir / "key";
  std::ofstream(key) << AuthKey::random().to_hex();
  // What the server wrote to stdout and stderr once it listens.
  const auto output = [&] {
    test::ServerProgram server({"--authkey-file", key});
    return server.out_text() + server.log_text();
  };
  using std::filesystem::perms;
  std::filesystem::permissions(
      key, perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
  std::string out = output();
  CHECK(out.find("listening on") != std::string::npos);
  CHECK(out.find("warn: auth key file") != std::string::npos);
  std::filesystem::permissions(key, perms::owner_read | perms::owner_write);
  out = output();
  CHECK(out.find("listening on") != std::string::npos);
  CHECK(out.find("warn: auth key file") == std::string::npos);
}

TEST_CASE("auth: a peer that keeps failing the handshake is slowed down, other peers are not",
          "[flood][auth]") {
  SpawnOptions options;
  options.extra_listen = {"tcp://127.0.0.1:0"};
  Manager mgr = Manager::spawn(options);
  const std::string tcp = tcp_address(mgr);
  // Seven failures from 127.0.0.2: three free, then 100, 200, 400, 800 ms
  // before each verdict.
  std::vector<duration<double>> took;
  for (int i = 0; i < 7; ++i) took.push_back(wrong_key_attempt(*tcp_from(tcp, "127.0.0.2")));
  CHECK(took[3] >= 100ms);
  CHECK(took[5] >= 400ms);
  CHECK(took[6] >= 800ms);
  // The next failure of that peer waits 1.6 s; meanwhile the event loop
  // serves everyone, and other peers are not slowed down.
  auto attacker = tcp_from(tcp, "127.0.0.2");
  auto hello = attacker->read(detail::server_hello_size);
  REQUIRE(hello);
  attacker->send(detail::client_answer(std::string(32, 'w'), detail::read_server_hello(*hello),
                                       detail::random_nonce()));
  const auto t = steady_clock::now();
  mgr.ping();
  Manager::connect(tcp, mgr.key()).ping();  // from 127.0.0.1
  CHECK(wrong_key_attempt(*tcp_from(tcp, "127.0.0.3")) < 1s);
  CHECK(steady_clock::now() - t < 1500ms);
  auto verdict = attacker->read(detail::server_verdict_size);
  REQUIRE(verdict);
  CHECK(steady_clock::now() - t >= 1600ms);
}

TEST_CASE("auth: handshake failures over a unix socket are counted per user", "[flood][auth]") {
  Manager mgr = Manager::spawn();
  std::vector<duration<double>> took;
  for (int i = 0; i < 5; ++i) {
    test::RawClient c(mgr.address());
    took.push_back(wrong_key_attempt(c));
  }
  CHECK(took[3] >= 100ms);
  CHECK(took[4] >= 200ms);
  mgr.ping();  // an authenticated connection of the same user goes on
}
