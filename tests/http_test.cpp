// The web page's server: request parsing, the Prometheus text format, and a
// live mpshare-server's page, /api and /metrics, read by a parser, a raw
// socket and a real browser.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mpshare/mpshare.hpp>
#include <regex>
#include <set>

#include "program.hpp"
#include "server/http/metrics.hpp"
#include "server/http/request.hpp"

using namespace mpshare;
using namespace mpshare::server::http;
using namespace std::chrono_literals;

namespace {

// Checks `text` line by line against the Prometheus text exposition format
// (0.0.4); returns each sample's value by its whole "name{labels}".
std::map<std::string, double> parse_prometheus(const std::string& text) {
  static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex label_re(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)")re");
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helped;
  std::map<std::string, double> samples;
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    INFO("line: " << line);
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream w(line.substr(1));
      std::string keyword, name, rest;
      w >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a comment
      REQUIRE(std::regex_match(name, name_re));
      CHECK(name.rfind("mpshare_", 0) == 0);
      if (keyword == "HELP") {
        CHECK(helped.insert(name).second);
        continue;
      }
      w >> rest;
      CHECK((rest == "counter" || rest == "gauge" || rest == "histogram" || rest == "summary" ||
             rest == "untyped"));
      CHECK(types.emplace(name, rest).second);  // one TYPE per family, before its samples
      if (rest == "counter") CHECK(name.size() > 6);
      if (rest == "counter") CHECK(name.substr(name.size() - 6) == "_total");
      continue;
    }
    const auto name_end = line.find_first_of("{ ");
    REQUIRE(name_end != std::string::npos);
    const std::string name = line.substr(0, name_end);
    REQUIRE(std::regex_match(name, name_re));
    CHECK(name.rfind("mpshare_", 0) == 0);
    CHECK(types.count(name) == 1);  // its TYPE came first
    std::size_t at = name_end;
    if (line[at] == '{') {
      const auto close = line.find("} ", at);
      REQUIRE(close != std::string::npos);
      std::string labels = line.substr(at + 1, close - at - 1);
      // label="value" pairs separated by commas, values escaped.
      std::smatch m;
      std::string rest = labels;
      while (!rest.empty()) {
        REQUIRE(std::regex_search(rest, m, label_re, std::regex_constants::match_continuous));
        rest = m.suffix();
        if (!rest.empty()) {
          REQUIRE(rest[0] == ',');
          rest = rest.substr(1);
        }
      }
      at = close + 1;
    }
    REQUIRE(line[at] == ' ');
    std::istringstream vs(line.substr(at + 1));
    std::string value, timestamp;
    vs >> value >> timestamp;
    double v = 0;
    if (value == "NaN" || value == "+Inf" || value == "-Inf") {
      v = value == "NaN" ? 0 : (value[0] == '+' ? 1e308 : -1e308);
    } else {
      char* end = nullptr;
      v = std::strtod(value.c_str(), &end);
      CHECK(*end == '\0');
    }
    samples[line.substr(0, at)] = v;
  }
  return samples;
}

rapidjson::Document parse_json(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  INFO("json: " << body.substr(0, 400));
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::vector<std::string> ds;
  for (std::string d; std::getline(dirs, d, ':');) ds.push_back(d);
  for (const char* name : {"chromium", "chromium-browser"})
    for (const auto& d : ds)
      if (::access((d + "/" + name).c_str(), X_OK) == 0) return d + "/" + name;
  return {};
}

}  // namespace

TEST_CASE("http: request heads are parsed, bad ones get their status", "[http]") {
  CHECK(head_end("GET / HTTP/1.1\r\nHost: a\r\n") == 0);
  CHECK(head_end("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest") == 27);
  CHECK(head_end("GET / HTTP/1.0\n\n") == 16);

  auto ok = parse_request("GET /api/info?x=1 HTTP/1.1\r\nhOsT:  127.0.0.1:80 \r\nA: b\r\n\r\n");
  REQUIRE(ok.request);
  CHECK(ok.request->method == "GET");
  CHECK(ok.request->path == "/api/info");
  CHECK(ok.request->host == "127.0.0.1:80");
  CHECK(parse_request("GET / HTTP/1.0\r\n\r\n").request);  // 1.0 needs no Host

  CHECK(parse_request("GET / HTTP/2.0\r\nHost: a\r\n\r\n").status == 505);
  for (const char* bad :
       {"GET / HTTP/1.1\r\n\r\n", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n",
        "GET x HTTP/1.1\r\nHost: a\r\n\r\n", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTX/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost a\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", "\r\n\r\n"}) {
    INFO(bad);
    CHECK(parse_request(bad).status == 400);
  }
}

TEST_CASE("http: --http addresses, loopback by default", "[http]") {
  CHECK(parse_listen_address("8080").host == "127.0.0.1");
  CHECK(parse_listen_address("8080").port == 8080);
  CHECK(parse_listen_address("0.0.0.0:0").host == "0.0.0.0");
  CHECK(parse_listen_address("[::1]:9").host == "::1");
  CHECK(parse_listen_address("http://localhost:7").host == "localhost");
  for (const char* bad : {"", "host", "host:", "70000", "a:70000", ":80", "a:b", "::1:80"})
    CHECK_THROWS_AS(parse_listen_address(bad), std::invalid_argument);
  CHECK_THROWS_WITH(parse_listen_address("a:99999"), Catch::Contains("a:99999"));
}

TEST_CASE("http: on loopback, only names that cannot be rebound are served", "[http]") {
  for (const char* ok : {"127.0.0.1:8080", "localhost", "LocalHost:1", "[::1]:80", "10.1.2.3"})
    CHECK(loopback_host_allowed(ok));
  for (const char* bad :
       {"evil.example", "evil.example:80", "127.0.0.1.evil.example", "[::1", "localhost:x", "::1"})
    CHECK_FALSE(loopback_host_allowed(bad));
}

TEST_CASE("http: metrics are written in the Prometheus text format", "[http][metrics]") {
  MetricsWriter m;
  m.family("mpshare_ops_total", "counter", "Requests\nhandled \\ by op.");
  m.sample({{"op", "dict_get"}}, std::uint64_t(12));
  m.sample({{"op", "odd\"name\\with\nnewline"}, {"kind", "dict"}}, 0.5);
  m.family("mpshare_up", "gauge", "1.");
  m.sample(1.0);
  const std::string& t = m.text();
  CHECK(t.find("# HELP mpshare_ops_total Requests\\nhandled \\\\ by op.\n") != std::string::npos);
  CHECK(t.find("mpshare_ops_total{op=\"odd\\\"name\\\\with\\nnewline\",kind=\"dict\"} 0.5\n") !=
        std::string::npos);
  CHECK(t.find("mpshare_up 1\n") != std::string::npos);
  const auto samples = parse_prometheus(t);
  CHECK(samples.at("mpshare_ops_total{op=\"dict_get\"}") == 12);

  CHECK_THROWS_AS(m.family("other_total", "counter", ""), std::invalid_argument);
  CHECK_THROWS_AS(m.family("mpshare_ops", "counter", ""), std::invalid_argument);
  CHECK_THROWS_AS(m.family("mpshare_bad-name", "gauge", ""), std::invalid_argument);
  m.family("mpshare_x", "gauge", "");
  CHECK_THROWS_AS(m.sample({{"0bad", "v"}}, 1.0), std::invalid_argument);
  MetricsWriter empty;
  CHECK_THROWS(empty.sample(1.0));
}

TEST_CASE("http: a live server's page, /api and /metrics, and bad requests get their status",
          "[http]") {
  test::ServerProgram server({"--listen", "tcp://127.0.0.1:0", "--http", "127.0.0.1:0"});
  const std::string web = server.address("http://");
  auto mgr = Manager::connect(server.address("tcp://"), AuthKey::from_file(server.keyfile()));
  auto jobs = mgr.queue<int>("jobs");
  for (int i = 0; i < 3; ++i) jobs.put(i);
  auto gate = mgr.lock("gate");
  gate.acquire();

  auto page = test::http_get(web, "/");
  CHECK(page.status == 200);
  CHECK(page.head.find("Content-Type: text/html") != std::string::npos);
  CHECK(page.head.find("Content-Security-Policy") != std::string::npos);
  CHECK(page.body.find("<script>") != std::string::npos);
  CHECK(page.body.find("/api/objects") != std::string::npos);
  // Nothing from elsewhere: no external scripts, styles or fonts.
  CHECK(page.body.find("src=") == std::string::npos);
  CHECK(page.body.find("http://") == std::string::npos);
  CHECK(page.body.find("https://") == std::string::npos);

  for (const char* path : {"/api/info", "/api/clients", "/api/objects"}) {
    auto r = test::http_get(web, path);
    INFO(path);
    CHECK(r.status == 200);
    CHECK(r.head.find("Content-Type: application/json") != std::string::npos);
    parse_json(r.body);
  }
  // The introspection snapshots, in the JSON mpshare-cli --json prints.
  const auto info = parse_json(test::http_get(web, "/api/info").body);
  REQUIRE(info.IsObject());
  for (const char* f : {"version", "pid", "uptime_s", "sessions", "objects", "requests", "bytes_in",
                        "bytes_out", "auth_failures", "ops"})
    CHECK(info.HasMember(f));
  CHECK(info["sessions"].GetUint64() >= 1);
  CHECK(info["objects"].GetUint64() == 2);
  const auto clients = parse_json(test::http_get(web, "/api/clients").body);
  REQUIRE(clients.HasMember("clients"));
  REQUIRE(clients["clients"].IsArray());
  bool holder_listed = false;
  for (const auto& c : clients["clients"].GetArray()) {
    for (const char* f : {"session", "transport", "peer", "connected_s", "requests", "holds"})
      CHECK(c.HasMember(f));
    for (const auto& h : c["holds"].GetArray())
      holder_listed |= std::string(h["object"].GetString()) == "gate";
  }
  CHECK(holder_listed);
  const auto objects = parse_json(test::http_get(web, "/api/objects").body);
  REQUIRE(objects.HasMember("objects"));
  std::map<std::string, const rapidjson::Value*> by_name;
  for (const auto& o : objects["objects"].GetArray()) by_name[o["name"].GetString()] = &o;
  REQUIRE(by_name.count("jobs") == 1);
  REQUIRE(by_name.count("gate") == 1);
  CHECK(std::string((*by_name["jobs"])["kind"].GetString()) == "queue");
  CHECK((*by_name["jobs"])["state"]["depth"].GetInt64() == 3);
  CHECK((*by_name["gate"])["holders"].Size() == 1);
  CHECK((*by_name["gate"])["state"]["locked"].GetInt64() == 1);

  auto metrics = test::http_get(web, "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.head.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  const auto samples = parse_prometheus(metrics.body);
  CHECK(samples.at("mpshare_sessions") >= 1);
  CHECK(samples.at("mpshare_objects") == 2);
  CHECK(samples.at("mpshare_requests_total") > 0);
  CHECK(samples.at(R"(mpshare_object_depth{name="jobs",kind="queue"})") == 3);
  CHECK(samples.at(R"(mpshare_object_holders{name="gate",kind="lock"})") == 1);
  CHECK(samples.at(R"(mpshare_object_waiters{name="gate",kind="lock"})") == 0);
  CHECK(samples.count(R"(mpshare_op_requests_total{op="QueuePut"})") == 1);

  CHECK(test::http_get(web, "/nope").status == 404);
  auto post = test::parse_http_reply(
      test::http_exchange(web, "POST /api/info HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  CHECK(post.status == 405);
  CHECK(post.head.find("Allow: GET, HEAD") != std::string::npos);
  auto head = test::parse_http_reply(
      test::http_exchange(web, "HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(test::parse_http_reply(test::http_exchange(web, "garbage\r\n\r\n")).status == 400);
  CHECK(test::parse_http_reply(
            test::http_exchange(web, "GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n"))
            .status == 403);
  const std::string huge =
      "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  CHECK(test::parse_http_reply(test::http_exchange(web, huge)).status == 431);
  CHECK(jobs.size() == 3);  // read-only: nothing changed
  gate.release();
}

TEST_CASE("http: silent and surplus connections do not stall the page or the objects", "[http]") {
  test::ServerProgram server({"--listen", "tcp://127.0.0.1:0", "--http", "127.0.0.1:0"});
  const std::string web = server.address("http://");
  const std::string hp = web.substr(7);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(hp.substr(hp.rfind(':') + 1))));
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  // More silent connections than the server keeps open, one with half a request.
  std::vector<int> silent;
  for (int i = 0; i < 40; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    silent.push_back(fd);
  }
  REQUIRE(::send(silent[0], "GET / HTTP/1.1\r\nHo", 18, MSG_NOSIGNAL) == 18);
  // The object server answers at once.
  auto mgr = Manager::connect(server.address("tcp://"), AuthKey::from_file(server.keyfile()));
  mgr.dict<int, int>("d").set(1, 2);
  CHECK(mgr.dict<int, int>("d").get(1) == 2);
  // Surplus connections were closed, so the page is served again once they are.
  for (int fd : silent) ::close(fd);
  const auto until = std::chrono::steady_clock::now() + 10s;
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < until) {
    try {
      status = test::http_get(web, "/api/info").status;
    } catch (const std::exception&) {
      status = 0;
    }
  }
  CHECK(status == 200);
  CHECK(server.stop() == 0);  // stops promptly with HTTP connections open
}

TEST_CASE("http: the page in a real browser shows the lock's holder and the queue's depth",
          "[http][browser]") {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    WARN(
        "chromium is not installed (neither chromium nor chromium-browser is on PATH): "
        "the page is not tested in a browser. Install Debian's chromium package.");
    SUCCEED();
    return;
  }
  test::ServerProgram server({"--listen", "tcp://127.0.0.1:0", "--http", "127.0.0.1:0"});
  const std::string web = server.address("http://");
  const auto key = AuthKey::from_file(server.keyfile());
  auto mgr = Manager::connect(server.address("tcp://"), key);
  auto gate = mgr.lock("gate");
  gate.acquire();
  auto jobs = mgr.queue<std::string>("jobs");
  for (const char* j : {"a", "b", "c"}) jobs.put(j);
  // Another process waits for the lock until this one releases it.
  const pid_t waiter = test::fork_child([&server, &key] {
    auto m = Manager::connect(server.address("tcp://"), key);
    auto g = m.lock("gate");
    g.acquire();
    g.release();
  });
  struct Reap {  // however the test ends: the waiter gets the lock and exits
    Lock& gate;
    pid_t pid;
    ~Reap() {
      gate.unlock();
      test::wait_child(pid, 20s);
    }
  } reap{gate, waiter};
  const auto until = std::chrono::steady_clock::now() + 20s;
  for (bool parked = false; !parked;) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    const auto objects = parse_json(test::http_get(web, "/api/objects").body);
    for (const auto& o : objects["objects"].GetArray())
      if (std::string(o["name"].GetString()) == "gate") parked = !o["waiters"].Empty();
  }

  test::TempDir profile;
  std::vector<std::string> args = {chromium,
                                   "--headless",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--user-data-dir=" + profile.path.string(),
                                   "--virtual-time-budget=5000",
                                   "--window-size=1280,900"};
  if (::geteuid() == 0) args.push_back("--no-sandbox");
  auto dump = args;
  dump.insert(dump.end(), {"--dump-dom", web + "/"});
  const auto r = test::run_program(dump, 90s);
  INFO("chromium stderr: " << r.err.substr(0, 2000));
  REQUIRE(r.code == 0);
  const std::string& dom = r.out;
  INFO("DOM: " << dom.substr(0, 6000));
  CHECK(dom.find("updated ") != std::string::npos);  // rendered from /api, not an error
  // The queue's row shows its depth, the lock's row its holder.
  const std::regex jobs_row(R"re(<tr data-name="jobs">.*?</tr>)re");
  std::smatch m;
  REQUIRE(std::regex_search(dom, m, jobs_row));
  CHECK(m.str().find("depth 3") != std::string::npos);
  const std::regex gate_row(R"re(<tr data-name="gate">.*?</tr>)re");
  REQUIRE(std::regex_search(dom, m, gate_row));
  CHECK(m.str().find("class=\"held\"") != std::string::npos);
  CHECK(m.str().find(">session ") != std::string::npos);
  CHECK(m.str().find(">1: session ") != std::string::npos);  // one waiter
  CHECK(dom.find("lock 'gate'") != std::string::npos);       // in the clients' table

  const auto artifacts = std::filesystem::path(MPSHARE_TEST_ARTIFACTS_DIR);
  std::filesystem::create_directories(artifacts);
  const auto png = artifacts / "page.png";
  std::filesystem::remove(png);
  auto shot = args;
  shot.insert(shot.end(), {"--screenshot=" + png.string(), web + "/"});
  CHECK(test::run_program(shot, 90s).code == 0);
  CHECK(std::filesystem::exists(png));
  CHECK(std::filesystem::file_size(png) > 1000);
}
