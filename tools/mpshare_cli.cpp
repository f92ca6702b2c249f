// mpshare-cli: looks into a running mpshare-server (info, clients, objects,
// watch), pings it, removes an object, stops it, and makes key files.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include "format.hpp"
#include "mpshare/mpshare.hpp"

namespace {

using namespace mpshare;

struct Settings {
  std::string address;
  std::string key_file;
  bool json = false;
  double timeout_s = 10;
  double interval_s = 2;
  std::uint64_t count = 0;
  std::string view = "objects";
  std::string name;
  std::string keygen_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
};

Manager connect(const Settings& s) {
  if (s.address.empty())
    throw ValueError("no server address: give --connect ADDR (or set MPSHARE_ADDRESS)");
  if (s.key_file.empty())
    throw ValueError("no key: give --authkey-file FILE (or set MPSHARE_AUTHKEY_FILE)");
  ConnectOptions o;
  o.call_timeout = std::chrono::milliseconds(static_cast<long long>(s.timeout_s * 1000));
  o.connect_timeout = o.call_timeout;
  o.map_shared_memory = false;
  o.tls.ca_file = s.tls_ca;
  o.tls.cert_file = s.tls_cert;
  o.tls.key_file = s.tls_key;
  return Manager::connect(s.address, AuthKey::from_file(s.key_file), o);
}

std::string show(const Settings& s, Manager& m, const std::string& view) {
  if (view == "info") {
    auto i = m.info();
    return s.json ? to_json(i) + "\n" : cli::info_table(i);
  }
  if (view == "clients") {
    auto c = m.clients();
    return s.json ? to_json(c) + "\n" : cli::clients_table(c);
  }
  auto o = m.objects_detail();
  return s.json ? to_json(o) + "\n" : cli::objects_table(o);
}

// Writes 32 random bytes to a new file of mode 0600; never overwrites.
void keygen(const std::string& path) {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) throw Error(Errc::remote_error, "RAND_bytes failed");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      throw ValueError("'" + path + "' exists; keygen never overwrites a key (remove it first)");
    throw ValueError("cannot create '" + path + "': " + std::strerror(errno));
  }
  const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, key, sizeof key) == sizeof key;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    throw ValueError("cannot write '" + path + "': " + std::strerror(saved));
  }
}

int run(const Settings& s, const std::string& command) {
  if (command == "keygen") {
    keygen(s.keygen_file);
    std::cout << "wrote a 32-byte key to " << s.keygen_file << " (mode 0600)\n";
    return 0;
  }
  Manager m = connect(s);
  if (command == "ping") {
    const auto t0 = std::chrono::steady_clock::now();
    m.ping();
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t0;
    if (s.json)
      std::cout << "{\"ok\": true, \"ms\": " << took.count() << "}\n";
    else
      std::cout << "pong from " << s.address << " in " << took.count() << " ms\n";
  } else if (command == "remove") {
    m.remove(s.name);
    if (!s.json) std::cout << "removed '" << s.name << "'\n";
  } else if (command == "shutdown") {
    m.shutdown();
    if (!s.json) std::cout << "the server at " << s.address << " is stopping\n";
  } else if (command == "watch") {
    const bool tty = ::isatty(STDOUT_FILENO) && !s.json;
    for (std::uint64_t n = 0; s.count == 0 || n < s.count; ++n) {
      if (n > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s.interval_s));
      std::string page = show(s, m, s.view);
      if (tty) std::cout << "\033[H\033[2J" << s.address << " every " << s.interval_s << "s\n\n";
      std::cout << page << (tty || s.json ? "" : "\n") << std::flush;
    }
  } else {
    std::cout << show(s, m, command);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"mpshare-cli: look into and control a running mpshare-server", "mpshare-cli"};
  app.set_version_flag("--version", std::string("mpshare-cli ") + MPSHARE_VERSION);
  app.option_defaults()->always_capture_default();
  app.add_option("-c,--connect", s.address,
                 "the server's address: unix:/path, tcp://host:port or tls://host:port")
      ->envname("MPSHARE_ADDRESS");
  app.add_option("-k,--authkey-file", s.key_file, "the server's key file")
      ->envname("MPSHARE_AUTHKEY_FILE");
  app.add_flag("--json", s.json, "JSON instead of tables, for scripts");
  app.add_option("--timeout", s.timeout_s, "seconds to wait for the server")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_option("--tls-ca", s.tls_ca, "CA certificates (PEM) of a tls:// server");
  app.add_option("--tls-cert", s.tls_cert, "client certificate (PEM), when the server asks");
  app.add_option("--tls-key", s.tls_key, "its private key (PEM)");
  app.require_subcommand(1);
  app.fallthrough();  // the options above also after the subcommand

  app.add_subcommand("info", "version, uptime, sessions, memory, requests per op");
  app.add_subcommand("clients", "every connection: peer, requests, what it holds and waits on");
  app.add_subcommand("objects", "every object: holders, waiters, depth and state");
  auto* watch = app.add_subcommand("watch", "show objects (or clients, info) again and again");
  watch->add_option("what", s.view, "objects, clients or info")
      ->check(CLI::IsMember({"objects", "clients", "info"}));
  watch->add_option("-i,--interval", s.interval_s, "seconds between refreshes")
      ->check(CLI::Range(0.05, 3600.0));
  watch->add_option("-n,--count", s.count, "refreshes before exiting (0: until interrupted)");
  app.add_subcommand("ping", "round trip to the server");
  app.add_subcommand("remove", "remove a named object")
      ->add_option("name", s.name, "the object's name")
      ->required();
  app.add_subcommand("shutdown",
                     "stop the server (allowed to the process that started it, or to anyone "
                     "when it runs with --allow-shutdown)");
  app.add_subcommand("keygen", "write a new 32-byte random key file (mode 0600)")
      ->add_option("file", s.keygen_file, "where to write it; never overwritten")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const std::string command = app.get_subcommands().front()->get_name();
  try {
    return run(s, command);
  } catch (const std::exception& e) {
    std::cerr << "mpshare-cli " << command << ": " << e.what() << "\n";
    return 1;
  }
}
