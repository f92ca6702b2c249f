// mpshare-server: hosts shared objects for clients on Unix, TCP and TLS sockets.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

#include "http/request.hpp"
#include "log.hpp"
#include "server.hpp"

#ifndef MPSHARE_VERSION_STRING
#define MPSHARE_VERSION_STRING "unknown"
#endif

namespace {

// Everything the command line sets.
struct CommandLine {
  mpshare::server::ServerOptions options;
  std::string keyfile;
  std::string remove_dir;
  std::string address_file;
  std::string output_limit;
  std::string log_level = "warn";
  std::int64_t handshake_timeout_ms = 5000;
  std::int64_t spin_us = 0;
  int key_fd = -1, ready_fd = -1;
};

constexpr const char* description =
    R"(Hosts mpshare objects (Dict, List, Queue, Lock, ...) for client processes.

Each bound address is printed on stdout as "listening on ADDR" (the web
page's as "http on http://HOST:PORT"). SIGINT or SIGTERM stops the server
gracefully. Options may also come from a file (--config FILE, INI or TOML):
one "name = value" line per option, without the dashes, e.g.
  authkey-file = "/etc/mpshare/key"
  listen = ["unix:/run/mpshare.sock", "tcp://0.0.0.0:7878"]
)";

// Accepts a whole number in [min, max] written in decimal, and says which
// of the two a value is not.
template <class T>
CLI::Validator whole_number(T min, T max) {
  return CLI::Validator(
      [min, max](std::string& s) -> std::string {
        T v{};
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc::invalid_argument || end != s.data() + s.size() ||
            (ec == std::errc::result_out_of_range &&
             s.find_first_not_of("-0123456789") != std::string::npos))
          return "'" + s + "' is not a whole number";
        if (ec == std::errc::result_out_of_range || v < min || v > max)
          return s + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) +
                 ")";
        return {};
      },
      "", "");
}

// Parses "SOFT,HARD" into the options; throws CLI::ValidationError.
void parse_output_limit(const std::string& v, mpshare::server::ServerOptions& o) {
  const auto comma = v.find(',');
  auto number = [&v](const std::string& part, const char* which) {
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
      n = std::stoull(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || part.front() == '-')
      throw CLI::ValidationError("--output-limit", std::string(which) + " '" + part +
                                                       "' is not a byte count (in '" + v + "')");
    return static_cast<std::size_t>(n);
  };
  if (comma == std::string::npos)
    throw CLI::ValidationError("--output-limit", "needs SOFT,HARD, not '" + v + "'");
  o.output_soft_limit = number(v.substr(0, comma), "SOFT");
  o.output_hard_limit = number(v.substr(comma + 1), "HARD");
}

void add_options(CLI::App& app, CommandLine& c) {
  auto& o = c.options;
  app.set_version_flag("--version", std::string("mpshare-server ") + MPSHARE_VERSION_STRING);
  app.set_config("--config", "", "read options from FILE (INI or TOML, see above)")
      ->type_name("FILE");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--listen", o.listen,
                 "listen on ADDR; repeatable. ADDR is unix:/path/to.sock (created with mode "
                 "0600), tcp://host:port or tls://host:port (port 0 picks a free port). "
                 "Default: tcp://127.0.0.1:7878")
      ->type_name("ADDR");
  app.add_option("--http", o.http,
                 "serve a read-only web page, /api/info|clients|objects (JSON) and /metrics "
                 "(Prometheus) on ADDR: PORT (on 127.0.0.1), HOST:PORT or [V6]:PORT; port 0 "
                 "picks a free port")
      ->type_name("ADDR")
      ->check([](const std::string& spec) {
        try {
          mpshare::server::http::parse_listen_address(spec);
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      });
  auto* keyfile =
      app.add_option("--authkey-file", c.keyfile,
                     "the shared key; clients must prove they know it (mutual "
                     "HMAC-SHA-256); at least 16 bytes, readable by its owner only. Make "
                     "one with: head -c 32 /dev/urandom > FILE "
                     "&& chmod 600 FILE")
          ->type_name("FILE");
  app.add_option("--authkey-fd", c.key_fd,
                 "read the key from descriptor N until end of file (instead of --authkey-file)")
      ->type_name("N")
      ->check(whole_number(0, std::numeric_limits<int>::max()))
      ->excludes(keyfile);
  app.add_option("--tls-cert", o.tls.cert_file, "certificate chain (PEM) of tls:// listeners")
      ->type_name("FILE");
  app.add_option("--tls-key", o.tls.key_file, "its private key (PEM)")->type_name("FILE");
  app.add_option("--tls-client-ca", o.tls.client_ca_file,
                 "require client certificates signed by this CA (PEM) on tls:// listeners; the "
                 "key handshake still runs")
      ->type_name("FILE");
  app.add_option("--max-clients", o.max_clients,
                 "connections at once (default 10000; 0 = no limit); beyond it a new connection "
                 "is closed at once unless one still authenticating can be dropped")
      ->type_name("N")
      ->check(whole_number<std::size_t>(0, std::numeric_limits<std::size_t>::max()));
  app.add_option("--max-unauthenticated", o.max_unauthenticated,
                 "connections still authenticating (default 1024; 0 = no limit); beyond it the "
                 "oldest is dropped")
      ->type_name("N")
      ->check(whole_number<std::size_t>(0, std::numeric_limits<std::size_t>::max()));
  app.add_option("--handshake-timeout-ms", c.handshake_timeout_ms,
                 "drop a connection that has not authenticated (TLS handshake included) within N "
                 "ms (default 5000)")
      ->type_name("N")
      ->check(whole_number<std::int64_t>(1, 3'600'000));
  app.add_option("--lifeline-fd", o.lifeline_fd,
                 "stop when descriptor N reaches end of file (the process that started this one "
                 "holds its other end)")
      ->type_name("N")
      ->check(whole_number(0, std::numeric_limits<int>::max()));
  app.add_option("--ready-fd", c.ready_fd,
                 "once listening, write \"ok\" and each bound address, one a line, to descriptor "
                 "N and close it; on failure write \"error: WHY\"")
      ->type_name("N")
      ->check(whole_number(0, std::numeric_limits<int>::max()));
  app.add_option("--address-file", c.address_file,
                 "once listening, write every bound address (the http one included), one a "
                 "line, to FILE (replaced whole, never seen half-written); removed on exit")
      ->type_name("FILE");
  app.add_option("--remove-dir", c.remove_dir,
                 "remove the (then empty) directory DIR on exit, after the socket files in it")
      ->type_name("DIR");
  app.add_option("--max-frame", o.max_frame, "largest accepted frame (default 268435456 = 256 MiB)")
      ->type_name("BYTES")
      ->check(whole_number<std::uint32_t>(1024, std::numeric_limits<std::uint32_t>::max()));
  app.add_option("--output-limit", c.output_limit,
                 "unread replies per client: above SOFT bytes its requests wait until it reads "
                 "(backpressure), above HARD it is disconnected; 0 = no limit (default "
                 "16777216,536870912 = 16 MiB, 512 MiB)")
      ->type_name("SOFT,HARD");
  app.add_option("--max-shared-bytes", o.max_shared_bytes,
                 "largest Value/Array a client may create (default 1073741824 = 1 GiB); "
                 "whole-contents reads are also bounded by --max-frame")
      ->type_name("BYTES")
      ->check(whole_number<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()));
  app.add_option("--spin-us", c.spin_us,
                 "low-latency mode: poll without sleeping for N microseconds after activity "
                 "(default 0: off; at most 1000000)")
      ->type_name("N")
      ->check(whole_number<std::int64_t>(0, 1'000'000));
  app.add_option("--log-level", c.log_level, "error, warn (default), info or debug")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
  app.add_flag("--allow-shutdown", c.options.allow_shutdown,
               "any client may stop the server (by default only the process that started it "
               "may)");
}

std::string read_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read auth key file '" + path + "': " + std::strerror(errno));
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.empty()) throw std::runtime_error("auth key file '" + path + "' is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    mpshare::server::log(mpshare::server::LogLevel::warn,
                         "auth key file '" + path +
                             "' is readable or writable by group or others; chmod 600 it");
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

// Replaces `path` with `text` at once: written beside it, then renamed over
// it, so a reader sees the old file, no file, or the whole new one.
void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot write address file '" + tmp + "': " + std::strerror(errno));
  std::string_view rest = text;
  bool ok = true;
  while (ok && !rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) rest.remove_prefix(static_cast<std::size_t>(n));
  }
  const int err = ok ? 0 : errno;
  if (::close(fd) != 0 && ok) ok = false;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(err ? err : errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write address file '" + path + "': " + why);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine c;
  CLI::App app(description, "mpshare-server");
  app.get_formatter()->column_width(32);
  add_options(app, c);
  try {
    app.parse(argc, argv);
    if (!c.output_limit.empty()) parse_output_limit(c.output_limit, c.options);
    if (c.keyfile.empty() && c.key_fd < 0)
      throw CLI::RequiredError("one of --authkey-file and --authkey-fd");
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mpshare-server: " << e.what() << "\n(see mpshare-server --help)\n";
    return 2;
  }
  auto& options = c.options;
  options.handshake_timeout = std::chrono::milliseconds(c.handshake_timeout_ms);
  options.spin = std::chrono::microseconds(c.spin_us);
  mpshare::server::set_log_level(mpshare::server::parse_log_level(c.log_level));
  if (options.listen.empty()) options.listen.push_back("tcp://127.0.0.1:7878");
  std::signal(SIGPIPE, SIG_IGN);
  options.owner_pid = ::getppid();  // the process that started this one may stop it
  int code = 0;
  bool wrote_address_file = false;
  try {
    options.key = c.key_fd >= 0 ? read_key_fd(c.key_fd) : read_key(c.keyfile);
    mpshare::server::Server server(options);
    std::string ok = "ok", lines;
    for (const auto& a : server.addresses()) {
      std::cout << "listening on " << a << std::endl;
      ok += "\n" + a;
      lines += a + "\n";
    }
    if (const std::string http = server.http_address(); !http.empty()) {
      std::cout << "http on " << http << std::endl;
      lines += http + "\n";
    }
    if (!c.address_file.empty()) {
      write_file_atomically(c.address_file, lines);
      wrote_address_file = true;
    }
    report(std::exchange(c.ready_fd, -1), ok);
    server.run();
    mpshare::server::log_flush();
  } catch (const std::exception& e) {
    std::cerr << "mpshare-server: " << e.what() << "\n";
    report(c.ready_fd, std::string("error: ") + e.what());
    code = 1;
  }
  if (wrote_address_file) ::unlink(c.address_file.c_str());
  if (!c.remove_dir.empty()) ::rmdir(c.remove_dir.c_str());
  return code;
}
