// mpshare-cli, the real program, against a running mpshare-server: tables
// and JSON of a held lock and a queue with items, ping, remove, watch,
// shutdown permission, keygen.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "mpshare/mpshare.hpp"
#include "program.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

// Runs mpshare-cli with `args`; bounded in time.
test::ProgramResult cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {MPSHARE_CLI_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_program(argv);
}

std::vector<std::string> with(const test::ServerProgram& s, std::vector<std::string> args) {
  std::vector<std::string> a = {"--connect", s.address("unix:"), "--authkey-file", s.keyfile()};
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("mpshare-cli: objects and clients show a held lock and a queue's depth", "[cli]") {
  test::ServerProgram server;
  auto mgr = Manager::connect(server.address("unix:"), AuthKey::from_file(server.keyfile()));
  auto lock = mgr.lock("held");
  const Grant g = lock.acquire();
  auto jobs = mgr.queue<int>("jobs");
  for (int i = 0; i < 3; ++i) jobs.put(i);

  auto objects = cli(with(server, {"objects"}));
  INFO(objects.out << objects.err);
  REQUIRE(objects.code == 0);
  CHECK(has(objects.out, "NAME"));
  CHECK(has(objects.out, "held"));
  CHECK(
      has(objects.out, "pid " + std::to_string(::getpid()) + " token " + std::to_string(g.token)));
  CHECK(has(objects.out, "depth=3"));
  CHECK(has(objects.out, "locked=1"));

  auto json = cli(with(server, {"--json", "objects"}));
  REQUIRE(json.code == 0);
  const auto parsed = objects_from_json(json.out);
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0].name == "held");
  REQUIRE(parsed[0].holders.size() == 1);
  CHECK(parsed[0].holders[0].token == g.token);
  CHECK(parsed[1].name == "jobs");
  CHECK(parsed[1].state.at("depth") == 3);

  auto clients = cli(with(server, {"clients"}));
  INFO(clients.out << clients.err);
  REQUIRE(clients.code == 0);
  CHECK(has(clients.out, "SESSION"));
  CHECK(has(clients.out, "unix pid " + std::to_string(::getpid())));
  CHECK(has(clients.out, "lock 'held' token " + std::to_string(g.token)));
  auto cjson = cli(with(server, {"clients", "--json"}));
  REQUIRE(cjson.code == 0);
  const auto cs = clients_from_json(cjson.out);
  REQUIRE(cs.size() == 2);  // this process, and the CLI itself
  CHECK(cs[0].holds.size() == 1);
  CHECK(cs[1].is_caller);

  auto info = cli(with(server, {"--json", "info"}));
  REQUIRE(info.code == 0);
  const ServerInfo i = server_info_from_json(info.out);
  CHECK(i.objects == 2);
  CHECK(i.pid == server.pid());
  auto table = cli(with(server, {"info"}));
  CHECK(has(table.out, "QueuePut"));

  auto watch = cli(with(server, {"watch", "objects", "--interval", "0.05", "--count", "2"}));
  REQUIRE(watch.code == 0);
  std::size_t headers = 0;
  for (auto at = watch.out.find("NAME"); at != std::string::npos;
       at = watch.out.find("NAME", at + 1))
    ++headers;
  CHECK(headers == 2);

  CHECK(has(cli(with(server, {"ping"})).out, "pong"));
  CHECK(cli(with(server, {"remove", "jobs"})).code == 0);
  auto again = cli(with(server, {"remove", "jobs"}));
  CHECK(again.code == 1);
  CHECK(has(again.err, "no object named 'jobs'"));
  lock.release();
}

TEST_CASE("mpshare-cli: shutdown needs --allow-shutdown, errors are clear", "[cli]") {
  {
    test::ServerProgram server;
    auto denied = cli(with(server, {"shutdown"}));
    CHECK(denied.code == 1);
    CHECK(has(denied.err, "only the process that started this server"));
    Manager::connect(server.address("unix:"), AuthKey::from_file(server.keyfile())).ping();
    auto wrong_key =
        cli({"--connect", server.address("unix:"), "--authkey-file", "/nonexistent", "ping"});
    CHECK(wrong_key.code == 1);
    auto no_address = cli({"info"});
    CHECK(no_address.code == 1);
    CHECK(has(no_address.err, "--connect"));
    auto bad = cli(with(server, {"frobnicate"}));
    CHECK(bad.code != 0);
  }
  test::ServerProgram server({"--allow-shutdown"});
  auto stop = cli(with(server, {"shutdown"}));
  CHECK(stop.code == 0);
  CHECK(server.wait_exit() == 0);
}

TEST_CASE("mpshare-cli keygen: 32 random bytes, mode 0600, never overwrites", "[cli]") {
  test::TempDir dir;
  const std::string file = dir / "key";
  auto r = cli({"keygen", file});
  CHECK(r.code == 0);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 32);
  const std::string first = AuthKey::from_file(file).bytes();
  auto again = cli({"keygen", file});
  CHECK(again.code == 1);
  CHECK(has(again.err, "never overwrites"));
  CHECK(AuthKey::from_file(file).bytes() == first);
  const std::string other = dir / "key2";
  REQUIRE(cli({"keygen", other}).code == 0);
  CHECK(AuthKey::from_file(other).bytes() != first);
}
