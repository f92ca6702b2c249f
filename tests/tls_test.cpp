// tls:// connections: certificates made at test time with the openssl
// command (a throwaway CA, a server and a client certificate, and a CA no
// one trusts), the key handshake inside TLS, and Value/Array through RPC.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mpshare/mpshare.hpp>

#include "support.hpp"

using namespace mpshare;
using namespace std::chrono_literals;

namespace {

// A private directory of PEM files, removed when the test program ends.
class Certificates {
 public:
  Certificates() {
    char tmpl[] = "/tmp/mpshare-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    make_ca("ca");
    make_ca("rogue");
    issue("server", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
    issue("client", "ca", "extendedKeyUsage=clientAuth");
    issue("intruder", "rogue", "extendedKeyUsage=clientAuth");
  }
  ~Certificates() { std::filesystem::remove_all(dir_); }
  Certificates(const Certificates&) = delete;
  Certificates& operator=(const Certificates&) = delete;

  std::string pem(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  void openssl(const std::string& args) {
    const std::string err = dir_ + "/openssl.err";
    pid_t child = test::fork_child([&] {
      ::execl("/bin/sh", "sh", "-c", ("openssl " + args + " >/dev/null 2>" + err).c_str(), nullptr);
      ::_exit(127);
    });
    if (test::wait_child(child, 60s) != 0) {
      std::ifstream in(err);
      std::string why((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      throw std::runtime_error("openssl " + args + " failed: " + why);
    }
  }
  std::string new_key(const std::string& name) {
    return "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key(name);
  }
  void make_ca(const std::string& name) {
    openssl("req -x509 " + new_key(name) + " -out " + pem(name) + " -days 2 -subj /CN=" + name +
            "-test-ca");
  }
  void issue(const std::string& name, const std::string& ca, const std::string& extensions) {
    const std::string ext = dir_ + "/" + name + ".ext";
    std::ofstream(ext) << extensions << "\n";
    const std::string csr = dir_ + "/" + name + ".csr";
    openssl("req " + new_key(name) + " -out " + csr + " -subj /CN=" + name);
    openssl("x509 -req -in " + csr + " -CA " + pem(ca) + " -CAkey " + key(ca) +
            " -CAcreateserial -days 2 -out " + pem(name) + " -extfile " + ext);
  }

  std::string dir_;
};

const Certificates& certs() {
  static const Certificates c;
  return c;
}

// A spawned server with a Unix socket, a tls:// and a tcp:// listener.
struct TlsServer {
  Manager mgr;
  std::string tls, tcp;

  explicit TlsServer(bool require_client_cert = false) : mgr(spawn(require_client_cert)) {
    tls = mgr.addresses().at(1);
    tcp = mgr.addresses().at(2);
  }
  static Manager spawn(bool require_client_cert) {
    SpawnOptions o;
    o.extra_listen = {"tls://127.0.0.1:0", "tcp://127.0.0.1:0"};
    o.server_tls.cert_file = certs().pem("server");
    o.server_tls.key_file = certs().key("server");
    if (require_client_cert) o.server_tls.client_ca_file = certs().pem("ca");
    return Manager::spawn(o);
  }
  std::string port() const { return tls.substr(tls.rfind(':') + 1); }
};

ConnectOptions trusting(const std::string& ca) {
  ConnectOptions o;
  o.connect_timeout = 3s;
  o.tls.ca_file = certs().pem(ca);
  return o;
}

template <class E>
std::string error_of(const std::string& address, const AuthKey& key, const ConnectOptions& o) {
  try {
    Manager::connect(address, key, o);
  } catch (const E& e) {
    return e.what();
  }
  return "no error of the expected type";
}

}  // namespace

TEST_CASE("tls: with the right CA, calls work by address and by name", "[tls]") {
  TlsServer s;
  REQUIRE(s.tls.rfind("tls://127.0.0.1:", 0) == 0);
  auto remote = Manager::connect(s.tls, s.mgr.key(), trusting("ca"));
  auto d = remote.dict<std::string, std::int64_t>("d");
  d.set("a", 1);
  d["a"] += 41;
  CHECK(s.mgr.dict<std::string, std::int64_t>("d").get("a") == 42);

  auto by_name = Manager::connect("tls://localhost:" + s.port(), s.mgr.key(), trusting("ca"));
  CHECK(by_name.dict<std::string, std::int64_t>("d").get("a") == 42);

  // Forked children open TLS connections of their own.
  auto codes = test::run_children(2, [&](int i) { d.set("child" + std::to_string(i), i); });
  CHECK(codes == std::vector<int>{0, 0});
  CHECK(d.size() == 3);
}

TEST_CASE("tls: the key handshake still runs inside TLS", "[tls]") {
  TlsServer s;
  CHECK_THROWS_AS(Manager::connect(s.tls, AuthKey::from_string("a wrong key, 16 bytes or more"),
                                   trusting("ca")),
                  AuthError);
}

TEST_CASE("tls: a server certificate from another CA or for another name is refused", "[tls]") {
  TlsServer s;
  CHECK_THAT(error_of<AuthError>(s.tls, s.mgr.key(), trusting("rogue")),
             Catch::Contains("certificate is not accepted") &&
                 Catch::Contains("unable to get local issuer certificate"));
  ConnectOptions other = trusting("ca");
  other.tls.server_name = "hub.example";
  CHECK_THAT(error_of<AuthError>(s.tls, s.mgr.key(), other), Catch::Contains("hostname mismatch"));
  other.tls.verify_name = false;  // the CA still has to sign it
  CHECK_NOTHROW(Manager::connect(s.tls, s.mgr.key(), other).ping());
  s.mgr.ping();
}

TEST_CASE("tls: a plaintext client on a TLS port and a TLS client on a plain port fail cleanly",
          "[tls]") {
  TlsServer s;
  ConnectOptions plain;
  plain.connect_timeout = 500ms;
  const std::string plain_on_tls = "tcp://127.0.0.1:" + s.port();
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_MATCHES(Manager::connect(plain_on_tls, s.mgr.key(), plain), Error,
                       Catch::Predicate<Error>([](const Error& e) {
                         return e.errc() == Errc::timeout || e.errc() == Errc::connection_lost;
                       }));
  CHECK(std::chrono::steady_clock::now() - start < 5s);

  const std::string tls_on_plain = "tls://127.0.0.1:" + s.tcp.substr(s.tcp.rfind(':') + 1);
  CHECK_THAT(error_of<ConnectionLost>(tls_on_plain, s.mgr.key(), trusting("ca")),
             Catch::Contains("TLS handshake"));
  s.mgr.ping();
  CHECK(Manager::connect(s.tls, s.mgr.key(), trusting("ca")).objects().empty());
}

TEST_CASE("tls: Value and Array go through RPC", "[tls][value][array]") {
  TlsServer s;
  auto local = s.mgr.value<std::int64_t>("hits", 0);
  auto local_w = s.mgr.array<double>("w", {1.0, 2.0, 3.0});
  auto remote = Manager::connect(s.tls, s.mgr.key(), trusting("ca"));
  auto hits = remote.value<std::int64_t>("hits");
  auto w = remote.array<double>("w", 3);
  CHECK_FALSE(hits.is_mapped());
  CHECK_FALSE(w.is_mapped());
  CHECK(local.is_mapped());
  for (int i = 0; i < 100; ++i) hits.fetch_add(1);
  local.fetch_add(1);
  CHECK(hits.load() == 101);
  w.store(1, 5.5);
  CHECK(local_w.load(1) == 5.5);
  w.with_lock([](std::span<double> v) { v[2] *= 2; });
  CHECK(local_w.to_vector() == std::vector<double>{1.0, 5.5, 6.0});
}

TEST_CASE("tls: a server that requires client certificates", "[tls]") {
  TlsServer s(true);
  ConnectOptions with = trusting("ca");
  with.tls.cert_file = certs().pem("client");
  with.tls.key_file = certs().key("client");
  auto remote = Manager::connect(s.tls, s.mgr.key(), with);
  remote.list<int>("l").append(1);
  CHECK(s.mgr.list<int>("l").size() == 1);

  CHECK_THAT(error_of<AuthError>(s.tls, s.mgr.key(), trusting("ca")),
             Catch::Contains("refused this client's certificate"));
  ConnectOptions intruder = trusting("ca");
  intruder.tls.cert_file = certs().pem("intruder");
  intruder.tls.key_file = certs().key("intruder");
  CHECK_THAT(error_of<AuthError>(s.tls, s.mgr.key(), intruder),
             Catch::Contains("refused this client's certificate"));
  s.mgr.ping();
}

TEST_CASE("tls: unreadable certificate files are a ValueError naming the option", "[tls]") {
  TlsServer s;
  ConnectOptions o = trusting("ca");
  o.tls.ca_file = "/nonexistent/ca.pem";
  CHECK_THAT(error_of<ValueError>(s.tls, s.mgr.key(), o), Catch::Contains("tls.ca_file"));
  o = trusting("ca");
  o.tls.cert_file = certs().pem("client");
  CHECK_THAT(error_of<ValueError>(s.tls, s.mgr.key(), o), Catch::Contains("needs its key"));
}
