// mpshare-server's command line: clear messages for bad values, --version,
// --config, --address-file, and errors that name the address.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mpshare/mpshare.hpp>

#include "program.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

test::ProgramResult server_with(std::vector<std::string> args) {
  args.insert(args.begin(), MPSHARE_SERVER_BINARY);
  return test::run_program(args);
}

// The server refuses `args` with exit code 2 and a message containing every
// one of `parts`.
void refused(const std::vector<std::string>& args, const std::vector<std::string>& parts) {
  const auto r = server_with(args);
  INFO("stderr: " << r.err);
  CHECK(r.code == 2);
  CHECK(r.err.rfind("mpshare-server: ", 0) == 0);
  for (const auto& p : parts) CHECK(r.err.find(p) != std::string::npos);
}

}  // namespace

TEST_CASE("mpshare-server: bad numbers and values get a clear message and exit code 2",
          "[server][cli]") {
  const std::vector<std::string> key = {"--authkey-file", "/dev/null"};
  auto with_key = [&key](std::vector<std::string> a) {
    a.insert(a.end(), key.begin(), key.end());
    return a;
  };
  refused(with_key({"--spin-us", "fast"}), {"--spin-us", "fast"});
  refused(with_key({"--spin-us=5000000"}), {"--spin-us", "5000000", "1000000"});
  refused(with_key({"--spin-us", "-1"}), {"--spin-us"});
  refused(with_key({"--max-frame", "100"}), {"--max-frame", "100", "1024"});
  refused(with_key({"--max-frame", "99999999999"}), {"--max-frame", "99999999999"});
  refused(with_key({"--handshake-timeout-ms", "0"}), {"--handshake-timeout-ms", "0"});
  refused(with_key({"--output-limit", "5"}), {"--output-limit", "SOFT,HARD", "'5'"});
  refused(with_key({"--output-limit", "5,lots"}), {"--output-limit", "HARD", "'lots'"});
  refused(with_key({"--log-level", "loud"}), {"--log-level", "loud"});
  refused(with_key({"--http", "localhost:http"}), {"--http", "localhost:http"});
  refused(with_key({"--lifeline-fd", "x"}), {"--lifeline-fd", "x"});
  refused(with_key({"--no-such-option"}), {"--no-such-option"});
  refused({"--listen", "unix:/nonexistent/s"}, {"--authkey-file", "--authkey-fd"});
  refused({"--authkey-file", "a", "--authkey-fd", "3"}, {"--authkey-file", "--authkey-fd"});
}

TEST_CASE("mpshare-server: --version and --help", "[server][cli]") {
  auto v = server_with({"--version"});
  CHECK(v.code == 0);
  CHECK(v.out.rfind("mpshare-server ", 0) == 0);
  auto h = server_with({"--help"});
  CHECK(h.code == 0);
  for (const char* opt : {"--listen", "--http", "--config", "--address-file", "--version",
                          "--output-limit", "--spin-us", "--authkey-fd", "--ready-fd"})
    CHECK(h.out.find(opt) != std::string::npos);
}

TEST_CASE("mpshare-server: errors name the host and the address", "[server][cli]") {
  test::TempDir dir;
  std::ofstream(dir / "key") << "a key of sixteen bytes or more";
  auto r = server_with({"--authkey-file", dir / "key", "--listen", "tcp://no-such-host.invalid:0"});
  CHECK(r.code == 1);
  CHECK(r.err.find("'no-such-host.invalid'") != std::string::npos);

  test::ServerProgram first({"--listen", "tcp://127.0.0.1:0"});
  const std::string taken = first.address("tcp://");
  r = server_with({"--authkey-file", dir / "key", "--listen", taken});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot bind " + taken) != std::string::npos);
  CHECK(r.err.find("in use") != std::string::npos);
  // The web page's address too.
  r = server_with({"--authkey-file", dir / "key", "--listen", "unix:" + (dir / "s"), "--http",
                   taken.substr(6)});
  CHECK(r.code == 1);
  CHECK(r.err.find("cannot bind http://" + taken.substr(6)) != std::string::npos);

  r = server_with({"--authkey-file", dir / "missing"});
  CHECK(r.code == 1);
  CHECK(r.err.find("missing") != std::string::npos);
  CHECK(r.err.find("No such file") != std::string::npos);
}

TEST_CASE("mpshare-server: --address-file lists every bound address, clients connect to them",
          "[server][cli]") {
  test::TempDir dir;
  const std::string sock = dir / "s.sock";
  std::string file;
  {
    test::ServerProgram server(
        {"--listen", "unix:" + sock, "--listen=tcp://127.0.0.1:0", "--http", "127.0.0.1:0"});
    file = server.address_file();
    const auto& a = server.addresses();
    REQUIRE(a.size() == 3);
    CHECK(a[0] == "unix:" + sock);
    CHECK(a[1].rfind("tcp://127.0.0.1:", 0) == 0);
    CHECK(a[1] != "tcp://127.0.0.1:0");
    CHECK(a[2].rfind("http://127.0.0.1:", 0) == 0);
    CHECK(a[2] != "http://127.0.0.1:0");
    CHECK(test::read_text(file).back() == '\n');
    // No temporary file is left beside it.
    CHECK(std::distance(std::filesystem::directory_iterator(server.dir().path),
                        std::filesystem::directory_iterator()) == 2);

    const auto key = AuthKey::from_file(server.keyfile());
    auto local = Manager::connect(a[0], key);
    auto remote = Manager::connect(a[1], key);
    local.dict<std::string, int>("x").set("k", 7);
    CHECK(remote.dict<std::string, int>("x").get("k") == 7);
    CHECK(test::http_get(a[2], "/api/info").status == 200);
    CHECK(server.stop() == 0);
  }
  CHECK_FALSE(std::filesystem::exists(file));  // removed on exit
}

TEST_CASE("mpshare-server: --config reads options from an INI or TOML file", "[server][cli]") {
  test::TempDir dir;
  const std::string sock = dir / "from-config.sock";
  std::ofstream(dir / "server.toml") << "# mpshare-server options\n"
                                     << "listen = [\"unix:" << sock << "\"]\n"
                                     << "http = \"127.0.0.1:0\"\n"
                                     << "log-level = \"error\"\n"
                                     << "max-frame = 65536\n";
  test::ServerProgram server({"--config", dir / "server.toml"});
  REQUIRE(server.addresses().size() == 2);
  CHECK(server.addresses()[0] == "unix:" + sock);
  CHECK(server.addresses()[1].rfind("http://127.0.0.1:", 0) == 0);
  auto mgr = Manager::connect("unix:" + sock, AuthKey::from_file(server.keyfile()));
  auto d = mgr.dict<int, std::string>("d");
  d.set(1, "small");
  CHECK_THROWS_AS(d.set(2, std::string(100000, 'x')), ProtocolError);  // max-frame applied
  CHECK(server.stop() == 0);

  // INI, and a bad value or an unknown key in the file is named.
  std::ofstream(dir / "server.ini") << "[default]\nspin-us=fast\n";
  auto r = server_with({"--authkey-file", "k", "--config", dir / "server.ini"});
  CHECK(r.code == 2);
  CHECK(r.err.find("spin-us") != std::string::npos);
  std::ofstream(dir / "typo.ini") << "listne=unix:/tmp/x\n";
  r = server_with({"--authkey-file", "k", "--config", dir / "typo.ini"});
  CHECK(r.code == 2);
  CHECK(r.err.find("listne") != std::string::npos);
  r = server_with({"--authkey-file", "k", "--config", dir / "absent.toml"});
  CHECK(r.code == 2);
  CHECK(r.err.find("absent.toml") != std::string::npos);
}
