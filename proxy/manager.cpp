#include "mpshare/manager.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "fd_registry.hpp"
#include "server/log.hpp"
#include "server/server.hpp"

namespace mpshare {

namespace detail {

OpenReply open_object(ClientCore& core, const std::string& name, Kind kind, const std::string& type,
                      ValueCode code, const Bytes& params) {
  return core.call<op::Open>(0, OpenRequest{name, kind, type, code, params});
}

}  // namespace detail

// The spawned server process, owned by the process that spawned it.
struct Manager::Spawned {
  pid_t owner = 0;    // the spawning process
  pid_t server = 0;   // the server process
  int lifeline = -1;  // write end; the server stops when it closes
  std::string dir;    // private directory holding the socket
  std::string socket;

  ~Spawned() { stop(std::chrono::seconds(5)); }

  // Idempotent. Only the spawning process stops the server.
  void stop(std::chrono::milliseconds grace) {
    if (server == 0 || ::getpid() != owner) return;
    if (lifeline >= 0 && detail::fork_generation() == lifeline_generation) {
      detail::close_inherited_fd(lifeline);
    }
    lifeline = -1;
    auto until = std::chrono::steady_clock::now() + grace;
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(server, &status, WNOHANG);
      if (r == server || (r < 0 && errno == ECHILD)) break;
      if (std::chrono::steady_clock::now() >= until) {
        ::kill(server, SIGKILL);
        ::waitpid(server, &status, 0);
        break;
      }
      // The server exits promptly once its lifeline closes; poll its exit.
      ::poll(nullptr, 0, 1);
    }
    server = 0;
    ::unlink(socket.c_str());
    ::rmdir(dir.c_str());
  }

  std::uint64_t lifeline_generation = 0;
};

namespace {

std::string runtime_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0 && errno != EINTR) return;
    if (n > 0) off += static_cast<std::size_t>(n);
  }
}

// Runs in the forked child: serve until the lifeline closes. Never returns.
[[noreturn]] void run_spawned_server(server::ServerOptions options, int ready_fd,
                                     const std::string& dir) {
  // Ctrl-C in a terminal goes to the whole process group; like Python's
  // manager, the server ignores it and follows its owner instead.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Hold no descriptor of the owner's except stdio and our two pipes.
  for (int fd = 3; fd < 1024; ++fd)
    if (fd != ready_fd && fd != options.lifeline_fd) ::close(fd);
  int code = 0;
  try {
    options.handle_signals = true;
    server::Server srv(options);
    std::string ok = "ok";
    for (const auto& a : srv.addresses()) ok += "\n" + a;
    write_all(ready_fd, ok);
    ::close(ready_fd);
    srv.run();
  } catch (const std::exception& e) {
    write_all(ready_fd, std::string("error: ") + e.what());
    code = 1;
  }
  ::rmdir(dir.c_str());
  ::_exit(code);
}

}  // namespace

Manager Manager::spawn(SpawnOptions options) {
  std::string tmpl = runtime_dir() + "/mpshare-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw Error(Errc::remote_error, "mkdtemp: " + std::string(std::strerror(errno)));
  auto spawned = std::make_unique<Spawned>();
  spawned->dir = tmpl;
  spawned->socket = tmpl + "/server.sock";
  AuthKey key = AuthKey::random();

  // The lifeline's write end is registered at once: children forked later,
  // here or by other threads, close it, so only this process holds it.
  int lifeline[2], ready[2];
  auto fail = [&](const char* what, int pipes) -> Error {
    const std::string why = std::string(what) + ": " + std::strerror(errno);
    if (pipes >= 1) {
      detail::close_inherited_fd(lifeline[1]);
      ::close(lifeline[0]);
    }
    if (pipes >= 2)
      for (int fd : ready) ::close(fd);
    ::rmdir(spawned->dir.c_str());
    return Error(Errc::remote_error, why);
  };
  if (detail::open_inherited_fd(
          [&] { return ::pipe2(lifeline, O_CLOEXEC) == 0 ? lifeline[1] : -1; }) < 0)
    throw fail("pipe", 0);
  if (::pipe2(ready, O_CLOEXEC) != 0) throw fail("pipe", 1);

  server::ServerOptions so;
  so.listen.push_back("unix:" + spawned->socket);
  for (const auto& a : options.extra_listen) so.listen.push_back(a);
  so.key = key.bytes();
  so.max_frame = options.max_frame;
  so.spin = options.server_spin;
  so.lifeline_fd = lifeline[0];

  pid_t pid = ::fork();
  if (pid < 0) throw fail("fork", 2);
  if (pid == 0) {  // lifeline[1] is closed already (registered)
    ::close(ready[0]);
    run_spawned_server(std::move(so), ready[1], spawned->dir);
  }
  ::close(lifeline[0]);
  ::close(ready[1]);
  spawned->owner = ::getpid();
  spawned->server = pid;
  spawned->lifeline = lifeline[1];
  spawned->lifeline_generation = detail::fork_generation();

  std::string verdict;
  char buf[512];
  pollfd p{ready[0], POLLIN, 0};
  while (::poll(&p, 1, 10000) > 0) {
    ssize_t n = ::read(ready[0], buf, sizeof buf);
    if (n <= 0) break;
    verdict.append(buf, static_cast<std::size_t>(n));
  }
  ::close(ready[0]);
  if (verdict.rfind("ok", 0) != 0) {
    spawned->stop(std::chrono::milliseconds(100));
    throw Error(Errc::remote_error,
                "cannot start the server: " + (verdict.empty() ? "no answer" : verdict));
  }
  // "ok" then the bound addresses (real ports), one a line.
  std::vector<std::string> addresses;
  for (std::size_t pos = verdict.find('\n'); pos != std::string::npos;) {
    std::size_t next = verdict.find('\n', pos + 1);
    addresses.push_back(verdict.substr(pos + 1, next == std::string::npos ? next : next - pos - 1));
    pos = next;
  }
  auto core = std::make_shared<detail::ClientCore>(addresses.at(0), key, options.connect);
  return Manager(std::move(core), std::move(spawned), std::move(addresses));
}

Manager Manager::connect(const std::string& address, AuthKey key, ConnectOptions options) {
  auto core = std::make_shared<detail::ClientCore>(address, std::move(key), options);
  core->call<detail::op::Ping>(0);  // fail now, not at first use
  return Manager(std::move(core), nullptr, {address});
}

Manager::Manager(std::shared_ptr<detail::ClientCore> core, std::unique_ptr<Spawned> spawned,
                 std::vector<std::string> addresses)
    : core_(std::move(core)), spawned_(std::move(spawned)), addresses_(std::move(addresses)) {}

Manager::Manager(Manager&&) noexcept = default;
Manager& Manager::operator=(Manager&&) noexcept = default;

Manager::~Manager() {
  if (spawned_ && spawned_->server != 0 && ::getpid() == spawned_->owner) {
    try {
      shutdown();
    } catch (...) {
    }
  }
}

const std::string& Manager::address() const {
  return core_->address();
}
const std::vector<std::string>& Manager::addresses() const {
  return addresses_;
}
const AuthKey& Manager::key() const {
  return core_->key();
}
pid_t Manager::server_pid() const {
  return spawned_ ? spawned_->server : 0;
}

void Manager::remove(const std::string& name) {
  core_->call<detail::op::Remove>(0, name);
}

std::vector<ObjectInfo> Manager::objects() const {
  return core_->call<detail::op::Objects>(0);
}

void Manager::ping() const {
  core_->call<detail::op::Ping>(0);
}

void Manager::shutdown() {
  const bool owner = spawned_ && ::getpid() == spawned_->owner;
  if (spawned_ && !owner) return;  // a forked child's copy never stops the server
  try {
    core_->call_until<detail::op::Shutdown>(0, detail::Deadline::after(std::chrono::seconds(2)));
  } catch (const ConnectionLost&) {
  } catch (const Timeout&) {
  }
  core_->disconnect_this_thread();
  if (owner) spawned_->stop(std::chrono::seconds(5));
}

}  // namespace mpshare
