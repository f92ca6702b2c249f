// Connecting: waiting for a server that is not up yet, reading key files,
// and the errors a user meets on the way, each naming what went wrong.
#include <sys/socket.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mpshare/mpshare.hpp>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;
using Catch::Matchers::StartsWith;

namespace {

// A private directory, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/mpshare-connect-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& contents) const {
    auto p = (path / name).string();
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("connect: retry_for waits for a server that starts later", "[connect]") {
  TempDir dir;
  const std::string key = "a key for a late server";
  const std::string keyfile = dir.file("key", key);
  const std::string sock = (dir.path / "s.sock").string();
  const std::string address = "unix:" + sock;

  // Nothing listens yet: one try fails at once.
  CHECK_THROWS_AS(Manager::connect(address, AuthKey::from_string(key)), ConnectionLost);

  test::Pipe go;
  pid_t server = ::fork();
  REQUIRE(server >= 0);
  if (server == 0) {
    go.close_write();
    try {
      go.read(1);  // starts only once the client is connecting
    } catch (...) {
      ::_exit(2);
    }
    ::execl(MPSHARE_SERVER_BINARY, "mpshare-server", "--listen", address.c_str(), "--authkey-file",
            keyfile.c_str(), "--log-level", "error", nullptr);
    ::_exit(127);
  }
  go.close_read();
  go.write("x");
  ConnectOptions o;
  o.retry_for = 30s;
  {
    auto mgr = Manager::connect(address, AuthKey::from_string(key), o);
    mgr.dict<std::string, int>("d").set("k", 1);
    CHECK(mgr.dict<std::string, int>("d").get("k") == 1);
  }
  ::kill(server, SIGTERM);
  CHECK(test::wait_child(server, 30s) == 0);
}

TEST_CASE("connect: retry_for gives up with the usual error once it has passed", "[connect]") {
  TempDir dir;
  ConnectOptions o;
  o.retry_for = 200ms;
  const auto start = std::chrono::steady_clock::now();
  try {
    Manager::connect("unix:" + (dir.path / "nobody.sock").string(),
                     AuthKey::from_string("a key of sixteen bytes or more"), o);
    FAIL("connected to nothing");
  } catch (const ConnectionLost& e) {
    CHECK(contains(e.what(), "No such file or directory"));
    CHECK(contains(e.what(), "no server listening there"));
  }
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
}

TEST_CASE("connect: a bad address is a ValueError naming it", "[connect]") {
  const auto key = AuthKey::from_string("a key of sixteen bytes or more");
  for (const char* bad : {"http://host:1", "tcp://host", "tcp://host:99999", "unix:"}) {
    try {
      Manager::connect(bad, key);
      FAIL("accepted " << bad);
    } catch (const ValueError& e) {
      CHECK(contains(e.what(), bad));
    }
  }
  CHECK_THROWS_AS(Manager::connect("unix:/" + std::string(200, 'x'), key), ValueError);
}

TEST_CASE("connect: a peer silent during the handshake is 'handshake timed out'", "[connect]") {
  TempDir dir;
  const std::string sock = (dir.path / "silent.sock").string();
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strcpy(sun.sun_path, sock.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
  REQUIRE(::listen(fd, 4) == 0);  // the kernel accepts; nobody answers
  ConnectOptions o;
  o.connect_timeout = 200ms;
  try {
    Manager::connect("unix:" + sock, AuthKey::from_string("a key of sixteen bytes or more"), o);
    FAIL("a silent peer authenticated");
  } catch (const Timeout& e) {
    CHECK(contains(e.what(), "handshake timed out"));
    CHECK(contains(e.what(), "200 ms"));
  }
  ::close(fd);
}

TEST_CASE("connect: a proxy used after shutdown() says the server was stopped", "[connect]") {
  auto mgr = Manager::spawn();
  auto d = mgr.dict<std::string, int>("d");
  d.set("k", 1);
  mgr.shutdown();
  try {
    d.get("k");
    FAIL("a call reached a stopped server");
  } catch (const ConnectionLost& e) {
    CHECK(contains(e.what(), "the server was stopped"));
  }
}

TEST_CASE("connect: AuthKey::from_file reads every byte and explains failures", "[connect]") {
  TempDir dir;
  SECTION("a missing file: AuthError with the path and the system's reason") {
    const std::string missing = (dir.path / "no-such-key").string();
    try {
      AuthKey::from_file(missing);
      FAIL("read a missing file");
    } catch (const AuthError& e) {
      CHECK(contains(e.what(), missing));
      CHECK(contains(e.what(), "No such file or directory"));
    }
  }
  SECTION("an empty file") {
    CHECK_THROWS_AS(AuthKey::from_file(dir.file("empty", "")), AuthError);
  }
  SECTION("`echo secret > key`: refused, naming the trailing newline") {
    try {
      AuthKey::from_file(dir.file("echoed", "secret\n"));
      FAIL("a text line with its newline was taken as a key");
    } catch (const AuthError& e) {
      CHECK(contains(e.what(), "newline"));
      CHECK(contains(e.what(), "printf"));
    }
  }
  SECTION("binary and text keys are taken as they are") {
    const std::string binary("\x01\xff\x00secret of 16 bytes\n", 22);
    CHECK(AuthKey::from_file(dir.file("binary", binary)).bytes() == binary);
    CHECK(AuthKey::from_file(dir.file("text", "a secret of 16 bytes")).bytes() ==
          "a secret of 16 bytes");
    CHECK(AuthKey::from_file(dir.file("lines", "two lines\nof 16 bytes\n")).bytes() ==
          "two lines\nof 16 bytes\n");
  }
}

TEST_CASE("connect: a missing key names it, and reopening with other parameters names them",
          "[connect]") {
  auto mgr = Manager::spawn();
  auto scores = mgr.dict<std::string, std::int64_t>("scores");
  try {
    scores.get("bob");
    FAIL("found bob");
  } catch (const KeyError& e) {
    CHECK_THAT(e.what(), StartsWith("key 'bob' not found in dict 'scores'"));
  }
  try {
    scores.pop(std::string(100, 'z') + "\x01");
    FAIL("popped a missing key");
  } catch (const KeyError& e) {
    CHECK_THAT(e.what(),
               StartsWith("key '" + std::string(64, 'z') + "...' not found in dict 'scores'"));
  }
  auto ids = mgr.dict<int, int>("ids");
  CHECK_THROWS_WITH(ids.get(42), StartsWith("key 42 not found in dict 'ids'"));
  auto seen = mgr.set<std::string>("seen");
  CHECK_THROWS_WITH(seen.remove("a\tb"), StartsWith("item 'a\\x09b' not found in set 'seen'"));

  mgr.queue<int>("jobs");
  CHECK_THROWS_WITH(mgr.queue<int>("jobs", 5), StartsWith("'jobs' exists with maxsize 0, not 5"));
  mgr.semaphore("sem", 2);
  CHECK_THROWS_WITH(mgr.semaphore("sem", 3),
                    StartsWith("'sem' exists with initial value 2, not 3"));
  mgr.barrier("b", 3);
  CHECK_THROWS_WITH(mgr.barrier("b", 4), StartsWith("'b' exists with parties 3, not 4"));
  mgr.array<double>("a", 4);
  CHECK_THROWS_WITH(mgr.array<double>("a", 5),
                    StartsWith("'a' exists with element count 4, not 5"));
}
