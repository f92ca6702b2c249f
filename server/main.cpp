// mpshare-server: hosts shared objects for clients on Unix, TCP and TLS sockets.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <utility>

#include "log.hpp"
#include "server.hpp"

namespace {

constexpr const char* usage = R"(usage: mpshare-server --authkey-file FILE [options]

Hosts mpshare objects (Dict, List, Queue, Lock, ...) for client processes.

options:
  --listen ADDR        listen on ADDR; repeatable. ADDR is unix:/path/to.sock
                       (created with mode 0600), tcp://host:port or
                       tls://host:port (port 0 picks a free port).
                       Default: tcp://127.0.0.1:7878
  --authkey-file FILE  the shared key; clients must prove they know it
                       (mutual HMAC-SHA-256). Make one with:
                         head -c 32 /dev/urandom > FILE && chmod 600 FILE
  --tls-cert FILE      certificate chain (PEM) of tls:// listeners
  --tls-key FILE       its private key (PEM)
  --tls-client-ca FILE require client certificates signed by this CA (PEM)
                       on tls:// listeners; the key handshake still runs
  --handshake-timeout-ms N
                       drop a connection that has not authenticated (TLS
                       handshake included) within N ms (default 5000)
  --authkey-fd N       read the key from descriptor N until end of file
                       (instead of --authkey-file)
  --lifeline-fd N      stop when descriptor N reaches end of file (the
                       process that started this one holds its other end)
  --ready-fd N         once listening, write "ok" and each bound address,
                       one a line, to descriptor N and close it; on failure
                       write "error: WHY"
  --remove-dir DIR     remove the (then empty) directory DIR on exit, after
                       the socket files in it
  --max-frame BYTES    largest accepted frame (default 268435456 = 256 MiB)
  --output-limit SOFT,HARD
                       unread replies per client: above SOFT bytes its
                       requests wait until it reads (backpressure), above
                       HARD it is disconnected; 0 = no limit (default
                       16777216,536870912 = 16 MiB, 512 MiB)
  --max-shared-bytes BYTES
                       largest Value/Array a client may create (default
                       1073741824 = 1 GiB); whole-contents reads are also
                       bounded by --max-frame
  --spin-us N          low-latency mode: poll without sleeping for N
                       microseconds after activity (default 0: off)
  --log-level LEVEL    error, warn (default), info or debug
  --help               this text

Each bound address is printed on stdout as "listening on ADDR".
SIGINT or SIGTERM stops the server gracefully.
)";

std::string read_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read auth key file '" + path + "'");
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.empty()) throw std::runtime_error("auth key file '" + path + "' is empty");
  return key;
}

std::string read_key_fd(int fd) {
  std::string key;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error("cannot read the auth key from descriptor " + std::to_string(fd) +
                               ": " + std::strerror(errno));
    if (n == 0) break;
    key.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (key.empty()) throw std::runtime_error("auth key descriptor gave no key");
  return key;
}

// Writes the whole report and closes `fd` (-1: nothing to do).
void report(int fd, const std::string& text) {
  if (fd < 0) return;
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
}

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "mpshare-server: " << msg << "\n(see mpshare-server --help)\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  mpshare::server::ServerOptions options;
  std::string keyfile;
  std::string remove_dir;
  int key_fd = -1, ready_fd = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--help" || arg == "-h") {
        std::cout << usage;
        return 0;
      } else if (arg == "--listen") {
        options.listen.push_back(value());
      } else if (arg == "--authkey-file") {
        keyfile = value();
      } else if (arg == "--tls-cert") {
        options.tls.cert_file = value();
      } else if (arg == "--tls-key") {
        options.tls.key_file = value();
      } else if (arg == "--tls-client-ca") {
        options.tls.client_ca_file = value();
      } else if (arg == "--handshake-timeout-ms") {
        auto v = std::stoll(value());
        if (v <= 0) die("--handshake-timeout-ms must be positive");
        options.handshake_timeout = std::chrono::milliseconds(v);
      } else if (arg == "--authkey-fd") {
        key_fd = std::stoi(value());
      } else if (arg == "--lifeline-fd") {
        options.lifeline_fd = std::stoi(value());
      } else if (arg == "--ready-fd") {
        ready_fd = std::stoi(value());
      } else if (arg == "--remove-dir") {
        remove_dir = value();
      } else if (arg == "--max-frame") {
        auto v = std::stoull(value());
        if (v < 1024 || v > 0xFFFFFFFFull) die("--max-frame must be in [1024, 4294967295]");
        options.max_frame = static_cast<std::uint32_t>(v);
      } else if (arg == "--output-limit") {
        const std::string v = value();
        const auto comma = v.find(',');
        if (comma == std::string::npos) die("--output-limit needs SOFT,HARD");
        options.output_soft_limit = std::stoull(v.substr(0, comma));
        options.output_hard_limit = std::stoull(v.substr(comma + 1));
      } else if (arg == "--max-shared-bytes") {
        options.max_shared_bytes = std::stoull(value());
      } else if (arg == "--spin-us") {
        options.spin = std::chrono::microseconds(std::stoll(value()));
      } else if (arg == "--log-level") {
        mpshare::server::set_log_level(mpshare::server::parse_log_level(value()));
      } else {
        die("unknown option " + arg);
      }
    } catch (const std::invalid_argument& e) {
      die(arg + ": " + e.what());
    } catch (const std::out_of_range&) {
      die(arg + ": value out of range");
    }
  }
  if (keyfile.empty() == (key_fd < 0)) die("one of --authkey-file and --authkey-fd is required");
  if (options.listen.empty()) options.listen.push_back("tcp://127.0.0.1:7878");
  std::signal(SIGPIPE, SIG_IGN);
  int code = 0;
  try {
    options.key = key_fd >= 0 ? read_key_fd(key_fd) : read_key(keyfile);
    mpshare::server::Server server(options);
    std::string ok = "ok";
    for (const auto& a : server.addresses()) {
      std::cout << "listening on " << a << std::endl;
      ok += "\n" + a;
    }
    report(std::exchange(ready_fd, -1), ok);
    server.run();
  } catch (const std::exception& e) {
    std::cerr << "mpshare-server: " << e.what() << "\n";
    report(ready_fd, std::string("error: ") + e.what());
    code = 1;
  }
  if (!remove_dir.empty()) ::rmdir(remove_dir.c_str());
  return code;
}
