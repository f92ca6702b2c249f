// The server's log: every line stamped with time and level, session lines
// with the session and its peer; connect, failed handshake, disconnect with
// what was released, shutdown with who asked; one line per request at
// debug; a flood of one line collapsed.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

#include "mpshare/mpshare.hpp"
#include "program.hpp"
#include "raw_client.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t count_matching(const std::vector<std::string>& lines, const std::regex& re) {
  return static_cast<std::size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const std::string& l) { return std::regex_search(l, re); }));
}

}  // namespace

TEST_CASE("log: connect, failed handshake, disconnect with what it released, shutdown by whom",
          "[log]") {
  test::ServerProgram server({"--log-level", "debug"});
  const AuthKey key = AuthKey::from_file(server.keyfile());
  std::uint64_t token = 0;
  {
    auto mgr = Manager::connect(server.address("unix:"), key);
    // A child takes the lock and exits holding it.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = test::fork_child([&] {
      auto m = Manager::connect(server.address("unix:"), key);
      const Grant g = m.lock("L").acquire();
      REQUIRE(::write(fds[1], &g.token, sizeof g.token) == sizeof g.token);
    });
    CHECK(test::wait_child(child, 20s) == 0);
    REQUIRE(::read(fds[0], &token, sizeof token) == sizeof token);
    ::close(fds[0]);
    ::close(fds[1]);
    CHECK_THROWS_AS(Manager::connect(server.address("unix:"),
                                     AuthKey::from_string("a wrong key of 32 bytes, not it")),
                    AuthError);
    // The lock is free once the child's session is gone.
    auto lock = mgr.lock("L");
    const Grant g = lock.acquire();
    CHECK(g.previous_owner_died);
    lock.release();
    mgr.shutdown();  // this process started the server: allowed
  }
  CHECK(server.wait_exit() == 0);
  const std::string text = server.log_text();
  INFO(text);
  const auto lines = lines_of(text);
  REQUIRE(!lines.empty());
  const std::regex stamp(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z mpshare-server\[\d+\] (error|warn|info|debug): )");
  for (const auto& l : lines) CHECK(std::regex_search(l, stamp));
  const std::string me =
      "unix pid " + std::to_string(::getpid()) + " uid " + std::to_string(::getuid());
  CHECK(count_matching(
            lines, std::regex(R"(info: session \d+ \(unix pid \d+ uid \d+\): connected$)")) == 3);
  CHECK(count_matching(
            lines,
            std::regex(R"(warn: session \d+ \(unix pid \d+ uid \d+\): authentication failed$)")) ==
        1);
  CHECK(
      count_matching(
          lines,
          std::regex(
              R"(info: session \d+ \(unix pid \d+ uid \d+\): disconnected, released lock 'L' \(token )" +
              std::to_string(token) + R"(\)$)")) == 1);
  CHECK(
      count_matching(
          lines,
          std::regex(
              R"(debug: session \d+ \(unix pid \d+ uid \d+\): LockAcquire object \d+ request \d+)")) >=
      2);
  CHECK(count_matching(lines, std::regex(R"(info: session \d+ \()" + me +
                                         R"(\): shutdown asked: stopping$)")) == 1);
}

TEST_CASE("log: info adds no line per request, a flood of one line is collapsed", "[log]") {
  test::ServerProgram server({"--log-level", "info"});
  const std::string key = AuthKey::from_file(server.keyfile()).bytes();
  {
    test::RawClient raw(server.address("unix:"));
    REQUIRE(raw.handshake(key));
    for (std::uint64_t i = 1; i <= 200; ++i) {
      raw.send(test::request(0x0FFF, i, 0, ""));
      REQUIRE(raw.reply());  // each answered with an error
    }
  }  // closing it writes the disconnect line, after the summary
  auto mgr = Manager::connect(server.address("unix:"), AuthKey::from_string(key));
  mgr.dict<int, int>("d").set(1, 1);
  mgr.shutdown();
  CHECK(server.wait_exit() == 0);
  const std::string text = server.log_text();
  INFO(text);
  const auto lines = lines_of(text);
  const auto unknown = count_matching(lines, std::regex("unknown op 0xfff$"));
  CHECK(unknown >= 1);
  CHECK(unknown < 20);  // about one a second
  std::size_t repeated = 0;
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, std::regex(R"(last message repeated (\d+) times?$)")))
      repeated += std::stoul(m[1]);
  }
  CHECK(unknown + repeated == 200);
  CHECK(count_matching(lines, std::regex("DictSet")) == 0);
}
