// The server under bad input, and the mpshare-server program.
#include "server/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mpshare/mpshare.hpp>

#include "raw_client.hpp"
#include "support.hpp"

using namespace mpshare;
using namespace mpshare::detail;
using namespace std::chrono_literals;

namespace {

// A dict with known contents, to show bad input changes nothing.
struct Fixture {
  Manager mgr = Manager::spawn();
  Dict<std::string, std::int64_t> d = mgr.dict<std::string, std::int64_t>("d");
  Fixture() { d.update({{"a", 1}, {"b", 2}}); }
  void unchanged() {
    CHECK(d.items() == std::vector<std::pair<std::string, std::int64_t>>{{"a", 1}, {"b", 2}});
  }
  std::string set_payload(const std::string& k, std::int64_t v) {
    std::string p;
    encode_into(p, encode(k), encode(v));
    return p;
  }
};

}  // namespace

TEST_CASE("server: a wrong key is refused with AuthError, others keep working", "[server]") {
  Fixture f;
  CHECK_THROWS_AS(
      Manager::connect(f.mgr.address(), AuthKey::from_string("a wrong key, 16 bytes or more")),
      AuthError);
  test::RawClient raw(f.mgr.address());
  CHECK_FALSE(raw.handshake("also a wrong key of 16+ bytes"));
  CHECK(raw.closed_by_peer());
  f.unchanged();
}

TEST_CASE("server: garbage instead of a handshake is disconnected", "[server]") {
  Fixture f;
  test::RawClient raw(f.mgr.address());
  REQUIRE(raw.read(server_hello_size));
  // A well-formed request before authenticating is garbage too.
  raw.send(test::request(op::DictSet::code, 1, f.d.id(), f.set_payload("a", 99)) +
           std::string(64, 'x'));
  CHECK(raw.closed_by_peer());
  f.unchanged();
}

TEST_CASE("server: an unknown op gets an error reply and the connection stays usable", "[server]") {
  Fixture f;
  test::RawClient raw(f.mgr.address());
  REQUIRE(raw.handshake(f.mgr.key().bytes()));
  raw.send(test::request(0x0FFE, 1, 0, ""));
  auto r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.request == 1);
  CHECK(r->first.is_reply());
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::protocol_error));
  CHECK(decode<std::string>(r->second).find("unknown op") != std::string::npos);
  std::string empty;
  encode_into(empty);
  raw.send(test::request(op::Ping::code, 2, 0, empty));
  r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.request == 2);
  CHECK(r->first.op == 0);
  f.unchanged();
}

TEST_CASE("server: unknown object id, wrong kind and malformed payloads get typed errors",
          "[server]") {
  Fixture f;
  auto l = f.mgr.list<int>("l");
  test::RawClient raw(f.mgr.address());
  REQUIRE(raw.handshake(f.mgr.key().bytes()));

  raw.send(test::request(op::DictSet::code, 1, 9999, f.set_payload("a", 5)));
  auto r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::no_such_object));

  raw.send(test::request(op::DictSet::code, 2, l.id(), f.set_payload("a", 5)));
  r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::type_mismatch));

  raw.send(test::request(op::DictSet::code, 3, f.d.id(), "\x01garbage"));
  r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::protocol_error));

  // A string whose declared size is far beyond the frame.
  std::string lying;
  encode_into(lying, std::uint64_t{1} << 60);
  raw.send(test::request(op::DictGet::code, 4, f.d.id(), lying));
  r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::protocol_error));

  // Trailing bytes after valid arguments.
  raw.send(test::request(op::DictSet::code, 5, f.d.id(), f.set_payload("a", 7) + "junk"));
  r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::protocol_error));

  // A reply frame sent by a client.
  std::string bogus(FrameHeader::size, '\0');
  write_header({0, 0, FrameHeader::reply_flag, 6, 0}, bogus.data());
  raw.send(bogus);
  r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::protocol_error));
  CHECK(l.size() == 0);
  f.unchanged();
}

TEST_CASE("server: an oversize length is refused before allocating, then disconnected",
          "[server]") {
  Fixture f;
  test::RawClient raw(f.mgr.address());
  REQUIRE(raw.handshake(f.mgr.key().bytes()));
  std::string header(FrameHeader::size, '\0');
  write_header({0xFFFFFFF0u, op::DictSet::code, 0, 1, f.d.id()}, header.data());
  raw.send(header);
  auto r = raw.reply();
  REQUIRE(r);
  CHECK(r->first.op == static_cast<std::uint16_t>(Errc::protocol_error));
  CHECK(decode<std::string>(r->second).find("exceeds the maximum") != std::string::npos);
  CHECK(raw.closed_by_peer());
  f.unchanged();
}

TEST_CASE("server: a truncated frame then a hang-up loses nothing", "[server]") {
  Fixture f;
  {
    test::RawClient raw(f.mgr.address());
    REQUIRE(raw.handshake(f.mgr.key().bytes()));
    std::string frame = test::request(op::DictSet::code, 1, f.d.id(), f.set_payload("a", 42));
    raw.send(frame.substr(0, frame.size() - 3));
  }
  f.unchanged();
  f.d.set("c", 3);
  CHECK(f.d.size() == 3);
}

TEST_CASE("server: a silent peer is dropped after the handshake time limit", "[server]") {
  auto dir =
      std::filesystem::temp_directory_path() / ("mpshare-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string address = "unix:" + (dir / "s.sock").string();
  test::Pipe ready;
  pid_t pid = test::fork_child([&] {
    server::ServerOptions o;
    o.listen = {address};
    o.key = "a key of sixteen bytes or more";
    o.handshake_timeout = 200ms;
    server::Server s(o);
    ready.write("r");
    s.run();
  });
  ready.read(1);
  test::RawClient raw(address);
  REQUIRE(raw.read(server_hello_size));
  auto start = std::chrono::steady_clock::now();
  CHECK(raw.closed_by_peer(5000));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  ::kill(pid, SIGTERM);
  CHECK(test::wait_child(pid, 10s) == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "s.sock"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("server: frames above --max-frame are refused", "[server]") {
  SpawnOptions o;
  o.max_frame = 4096;
  auto mgr = Manager::spawn(o);
  auto d = mgr.dict<int, std::string>("d");
  d.set(1, std::string(1000, 'x'));
  CHECK_THROWS_AS(d.set(2, std::string(10000, 'x')), ProtocolError);
  CHECK(d.size() == 1);  // a new connection serves on
}

TEST_CASE("mpshare-server: --help, listens on unix and tcp, stops on SIGTERM", "[server]") {
  auto dir = std::filesystem::temp_directory_path() / ("mpshare-srv-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto keyfile = (dir / "key").string();
  std::ofstream(keyfile) << "a shared secret of 16 bytes or more";
  std::filesystem::permissions(
      keyfile, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto sock = (dir / "s.sock").string();

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::execl(MPSHARE_SERVER_BINARY, "mpshare-server", "--listen", ("unix:" + sock).c_str(),
            "--listen", "tcp://127.0.0.1:0", "--authkey-file", keyfile.c_str(), "--log-level",
            "error", nullptr);
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string text;
  char buf[512];
  while (std::count(text.begin(), text.end(), '\n') < 2) {
    pollfd p{fds[0], POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) > 0);
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    REQUIRE(n > 0);
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  CHECK(text.find("listening on unix:" + sock) != std::string::npos);
  auto at = text.find("listening on tcp://127.0.0.1:");
  REQUIRE(at != std::string::npos);
  std::string tcp = text.substr(at + 13, text.find('\n', at) - at - 13);
  CHECK(tcp != "tcp://127.0.0.1:0");
  struct stat st {};
  REQUIRE(::stat(sock.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto key = AuthKey::from_file(keyfile);
  {
    auto local = Manager::connect("unix:" + sock, key);
    auto remote = Manager::connect(tcp, key);
    local.dict<std::string, int>("x").set("k", 1);
    CHECK(remote.dict<std::string, int>("x").get("k") == 1);
    CHECK_THROWS_AS(Manager::connect(tcp, AuthKey::from_string("nope, not the key at all")),
                    AuthError);
  }
  ::kill(pid, SIGTERM);
  CHECK(test::wait_child(pid, 10s) == 0);
  CHECK_FALSE(std::filesystem::exists(sock));
  std::filesystem::remove_all(dir);
}

TEST_CASE("mpshare-server --help documents its options", "[server]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::execl(MPSHARE_SERVER_BINARY, "mpshare-server", "--help", nullptr);
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) > 0);
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  CHECK(test::wait_child(pid, 10s) == 0);
  for (const char* opt : {"--listen", "--authkey-file", "--max-frame", "--log-level"})
    CHECK(text.find(opt) != std::string::npos);
}

TEST_CASE("server: a tls:// listener needs a certificate and a key that load", "[server][tls]") {
  server::ServerOptions o;
  o.key = "a key of sixteen bytes or more";
  o.handle_signals = false;
  o.listen = {"tls://127.0.0.1:0"};
  CHECK_THROWS_WITH(server::Server(o),
                    Catch::Contains("--tls-cert") && Catch::Contains("--tls-key"));
  o.tls.cert_file = "/nonexistent/server.pem";
  o.tls.key_file = "/nonexistent/server.key";
  CHECK_THROWS_WITH(server::Server(o), Catch::Contains("--tls-cert /nonexistent/server.pem"));
}
