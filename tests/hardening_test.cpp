// Hostile and careless peers: decoding bombs, bytes that are no bool or
// enum, and RAII lock holders whose server is gone.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mpshare/mpshare.hpp>
#include <mutex>

#include "raw_client.hpp"
#include "support.hpp"

using namespace mpshare;
using namespace mpshare::detail;
using namespace std::chrono_literals;

namespace {

// Peak resident memory of process `pid` in bytes (VmHWM), or 0.
std::uint64_t peak_rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

Errc status(const std::optional<std::pair<FrameHeader, std::string>>& reply) {
  REQUIRE(reply);
  return static_cast<Errc>(reply->first.op);
}

}  // namespace

TEST_CASE("codec: a bool is 0 or 1, a wire enum within its range", "[hardening]") {
  CHECK(decode<bool>(std::string("\x01\x01", 2)));
  CHECK_FALSE(decode<bool>(std::string("\x01\x00", 2)));
  CHECK_THROWS_AS(decode<bool>(std::string("\x01\x07", 2)), ProtocolError);
  CHECK_THROWS_AS(decode<std::vector<bool>>(encode(std::uint64_t{1}) + "\x02"), ProtocolError);
  CHECK(decode<Kind>(encode(Kind::array)) == Kind::array);
  CHECK_THROWS_AS(decode<Kind>(encode(std::uint8_t{250})), ProtocolError);
  CHECK(decode<ValueCode>(encode(ValueCode::boolean)) == ValueCode::boolean);
  CHECK_THROWS_AS(decode<ValueCode>(encode(std::uint8_t{200})), ProtocolError);
  ObjectInfo info{"n", Kind::dict, "t", 1};
  std::string bad = encode(info);
  bad[1 + 8 + 1] = 99;  // the kind, after the endianness byte and the name
  CHECK_THROWS_AS(decode<ObjectInfo>(bad), ProtocolError);
}

TEST_CASE("codec: a declared count costs no more memory than its bytes could hold", "[hardening]") {
  // 1000 bytes follow a count of 1000: enough for 1000 bytes, not for 1000
  // strings (8 bytes each at least) nor 1000 pairs of them.
  std::string lying = encode(std::uint64_t{1000}).substr(1) + std::string(1000, '\0');
  lying.insert(0, 1, '\x01');
  CHECK_THROWS_AS(decode<std::vector<std::string>>(lying), ProtocolError);
  CHECK_THROWS_AS(decode<BytesPairs>(lying), ProtocolError);
  CHECK_THROWS_AS(decode<std::vector<std::uint64_t>>(lying), ProtocolError);
  CHECK_THROWS_AS(decode<std::deque<std::string>>(lying), ProtocolError);
  CHECK_THROWS_AS(decode<std::list<std::string>>(lying), ProtocolError);
  CHECK_THROWS_AS(decode<std::unordered_set<std::string>>(lying), ProtocolError);
  CHECK(decode<std::vector<std::uint8_t>>(lying).size() == 1000);
  // What the checks let through still decodes.
  std::vector<std::pair<std::string, std::string>> pairs(100);
  CHECK(decode<BytesPairs>(encode(pairs)) == pairs);
  CHECK(decode<std::deque<std::int32_t>>(encode(std::deque<std::int32_t>{1, 2})).size() == 2);
  CHECK(decode<std::list<std::string>>(encode(std::list<std::string>{"a", "b"})).back() == "b");
  CHECK(decode<std::vector<bool>>(encode(std::vector<bool>{true, false, true})) ==
        std::vector<bool>{true, false, true});
  CHECK(decode<std::unordered_set<std::string>>(encode(std::unordered_set<std::string>{"x"}))
            .count("x") == 1);
}

TEST_CASE("server: a 64 MiB DictUpdate declaring 64 Mi elements is refused fast and small",
          "[hardening]") {
  Manager mgr = Manager::spawn();
  auto d = mgr.dict<std::string, int>("d");
  test::RawClient raw(mgr.address());
  REQUIRE(raw.handshake(mgr.key().bytes()));
  const std::uint64_t before = peak_rss(mgr.server_pid());

  std::string bomb;
  encode_into(bomb, std::uint64_t{64} << 20);
  bomb.resize(bomb.size() + (std::size_t{64} << 20));
  raw.send(test::request(op::DictUpdate::code, 1, d.id(), bomb));
  const auto start = std::chrono::steady_clock::now();  // the server has nearly all of it
  CHECK(status(raw.reply()) == Errc::protocol_error);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  const std::uint64_t growth = peak_rss(mgr.server_pid()) - before;
  INFO("server peak RSS growth: " << growth / (1 << 20) << " MiB");
  CHECK(growth < (std::uint64_t{512} << 20));

  // The server goes on serving everyone, the bomb's sender included.
  d.set("a", 1);
  CHECK(d.get("a") == 1);
  std::string no_args;
  encode_into(no_args);
  raw.send(test::request(op::Ping::code, 2, 0, no_args));
  CHECK(status(raw.reply()) == Errc{});
}

TEST_CASE("server: SharedAttach with a byte that is no bool is a protocol error", "[hardening]") {
  Manager mgr = Manager::spawn();
  auto v = mgr.value<std::int64_t>("v", 5);
  test::RawClient raw(mgr.address());
  REQUIRE(raw.handshake(mgr.key().bytes()));
  raw.send(test::request(op::SharedAttach::code, 1, v.id(), std::string("\x01\x07", 2)));
  CHECK(status(raw.reply()) == Errc::protocol_error);
  CHECK(v.load() == 5);
}

TEST_CASE("lock: RAII guards release without throwing once the server is gone", "[hardening]") {
  // std::terminate would end the child with SIGABRT instead of exit code 0.
  auto server_dies_in_scope = [](bool unwinding) {
    Manager mgr = Manager::spawn();
    auto lock = mgr.lock("L");
    auto cond = mgr.condition("C");
    const pid_t server = mgr.server_pid();
    return test::wait_child(test::fork_child([&] {
      try {
        std::lock_guard g(lock);
        std::unique_lock lk(cond);
        ::kill(server, SIGKILL);
        if (!test::wait_gone(server, 10s)) throw std::runtime_error("server still running");
        if (unwinding) lock.locked();  // ConnectionLost, unwinding through both guards
      } catch (const ConnectionLost&) {
        if (unwinding) return;
        throw;
      }
      if (unwinding) throw std::runtime_error("no ConnectionLost");
    }));
  };
  CHECK(server_dies_in_scope(false) == 0);
  CHECK(server_dies_in_scope(true) == 0);
}

TEST_CASE("array: sizes beyond the server's limit are refused at open", "[hardening]") {
  Manager mgr = Manager::spawn();
  using Pair = std::array<double, 2>;
  CHECK_THROWS_AS(mgr.array<Pair>("huge", std::size_t{1} << 36), ValueError);
  CHECK(mgr.objects().empty());
  CHECK(mgr.array<Pair>("fine", 1024).size() == 1024);
}

TEST_CASE("array: a whole-contents read beyond a reply's limit fails and leaves the lock free",
          "[hardening]") {
  SpawnOptions options;
  options.max_frame = 1 << 20;
  Manager mgr = Manager::spawn(options);
  using Pair = std::array<double, 2>;
  auto a = mgr.array<Pair>("a", 2 * 65536);  // 2 MiB
  test::RawClient b(mgr.address()), c(mgr.address());
  REQUIRE(b.handshake(mgr.key().bytes()));
  REQUIRE(c.handshake(mgr.key().bytes()));
  std::string no_args;
  encode_into(no_args);
  std::string index0;
  encode_into(index0, std::uint64_t{0});

  // At once: refused, and the lock is not kept.
  b.send(test::request(op::SharedLock::code, 1, a.id(), no_args));
  CHECK(status(b.reply()) == Errc::value_error);
  b.send(test::request(op::SharedReadAll::code, 2, a.id(), no_args));
  CHECK(status(b.reply()) == Errc::value_error);
  c.send(test::request(op::SharedLoad::code, 1, a.id(), index0));
  CHECK(status(c.reply()) == Errc{});

  // Parked behind a local holder, then run: refused, and the lock handed on.
  a.with_lock([&](std::span<Pair>) {
    b.send(test::request(op::SharedLock::code, 3, a.id(), no_args));
    b.send(test::request(op::Ping::code, 4, 0, no_args));  // answered first: the lock is parked
    auto ping = b.reply();
    REQUIRE(ping);
    CHECK(ping->first.request == 4);
  });
  CHECK(status(b.reply()) == Errc::value_error);
  c.send(test::request(op::SharedLoad::code, 2, a.id(), index0));
  CHECK(status(c.reply()) == Errc{});
  a.store(0, Pair{1, 2});
  CHECK(a.load(0) == Pair{1, 2});
}

TEST_CASE("server: a client that never reads its replies is held back, others are not",
          "[hardening]") {
  Manager mgr = Manager::spawn();
  auto d = mgr.dict<std::string, std::string>("d");
  const std::string key(4096, 'k');  // requests of 4 KiB: socket buffers hold few
  d.set(key, std::string(64 * 1024, 'x'));
  test::RawClient flood(mgr.address()), other(mgr.address());
  REQUIRE(flood.handshake(mgr.key().bytes()));
  REQUIRE(other.handshake(mgr.key().bytes()));
  const std::uint64_t before = peak_rss(mgr.server_pid());

  // Up to 16 Ki requests (1 GiB of replies), until the server stops taking them.
  std::string get;
  encode_into(get, encode(key));
  std::string burst;
  for (int i = 0; i < 64; ++i) burst += test::request(op::DictGet::code, 1, d.id(), get);
  std::size_t bursts = 0;
  while (bursts < 256 && flood.send_for(burst, 500)) ++bursts;
  INFO("requests taken: " << bursts * 64);
  CHECK(bursts < 256);  // backpressure: the server stopped reading

  // Others are served promptly meanwhile.
  std::string no_args;
  encode_into(no_args);
  const auto start = std::chrono::steady_clock::now();
  other.send(test::request(op::Ping::code, 1, 0, no_args));
  CHECK(status(other.reply()) == Errc{});
  CHECK(std::chrono::steady_clock::now() - start < 200ms);
  const std::uint64_t growth = peak_rss(mgr.server_pid()) - before;
  INFO("server peak RSS growth: " << growth / (1 << 20) << " MiB");
  CHECK(growth < (std::uint64_t{256} << 20));

  // Once the client reads, the server reads again: every request is answered.
  for (std::size_t i = 0; i < bursts * 64; ++i) {
    auto r = flood.reply();
    REQUIRE(r);
    REQUIRE(r->first.op == 0);
  }
}

TEST_CASE("server: replies piling up past the hard output limit disconnect that client only",
          "[hardening]") {
  // The server program with a 64 KiB soft and 1 MiB hard limit, through a
  // wrapper that adds the option.
  const auto dir =
      std::filesystem::temp_directory_path() / ("mpshare-limit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto wrapper = dir / "server";
  std::ofstream(wrapper) << "#!/bin/sh\nexec '" MPSHARE_SERVER_BINARY
                            "' \"$@\" --output-limit 65536,1048576\n";
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  SpawnOptions options;
  options.server_program = wrapper.string();
  Manager mgr = Manager::spawn(options);
  std::filesystem::remove_all(dir);

  auto q = mgr.queue<std::string>("q");
  test::RawClient idle(mgr.address());
  REQUIRE(idle.handshake(mgr.key().bytes()));
  // 64 gets parked for one item each; the client then reads nothing.
  std::string get;
  encode_into(get, std::uint64_t{1}, wait_forever);
  std::string gets;
  for (int i = 0; i < 64; ++i) gets += test::request(op::QueueGet::code, i + 1, q.id(), get);
  std::string no_args;
  encode_into(no_args);
  idle.send(gets + test::request(op::Ping::code, 100, 0, no_args));
  auto ping = idle.reply();  // answered once every get is parked
  REQUIRE(ping);
  CHECK(ping->first.request == 100);
  // 32 MiB of items complete them: more than the socket buffers take, so
  // its replies pile up past the hard limit.
  for (int i = 0; i < 64; ++i) q.put(std::string(512 * 1024, 'x'));
  CHECK(idle.closed_by_peer());
  // The server goes on: the items the dropped gets did not take are there.
  q.put("after");
  const std::size_t left = q.size();
  CHECK(left > 1);
  for (std::size_t i = 1; i < left; ++i) CHECK(q.get().size() == 512 * 1024);
  CHECK(q.get() == "after");
}
