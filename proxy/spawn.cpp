#include "spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fd_registry.hpp"

extern char** environ;

namespace mpshare {

namespace {

// The descriptors the server program gets: its lifeline, where it reports
// that it listens, and where it reads the key. Everything above is closed.
constexpr int child_lifeline_fd = 3;
constexpr int child_ready_fd = 4;
constexpr int child_key_fd = 5;
constexpr int first_free_fd = 6;

[[noreturn]] void fail(const std::string& what) {
  throw Error(Errc::remote_error, "cannot start the server: " + what);
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::string runtime_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

// A close-on-exec pipe with both ends above the server's fixed descriptors
// (so no dup2 onto them clobbers another). Its write end is registered:
// children forked meanwhile by other threads close it, so only this process
// and the server ever hold it.
struct Pipe {
  int read = -1, write = -1;

  Pipe() {
    int fds[2];
    auto lift = [](int& fd) {
      if (fd >= first_free_fd) return true;
      int high = ::fcntl(fd, F_DUPFD_CLOEXEC, first_free_fd);
      ::close(fd);
      fd = high;
      return fd >= 0;
    };
    int w = detail::open_inherited_fd([&] {
      if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
      if (lift(fds[0]) && lift(fds[1])) return fds[1];
      if (fds[0] >= 0) ::close(fds[0]);
      if (fds[1] >= 0) ::close(fds[1]);
      return -1;
    });
    if (w < 0) fail(errno_text("pipe"));
    read = fds[0];
    write = w;
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) detail::close_inherited_fd(write);
    write = -1;
  }
  // Hands the write end over to the caller (still registered).
  int release_write() { return std::exchange(write, -1); }
};

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Everything the server writes to its ready descriptor, until it closes it
// (or exits) or `timeout` passes.
std::string read_report(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    int r = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return out;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// Owns posix_spawn's attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;

  SpawnSetup(int lifeline, int ready, int key) {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, lifeline, child_lifeline_fd);
    posix_spawn_file_actions_adddup2(&actions, ready, child_ready_fd);
    posix_spawn_file_actions_adddup2(&actions, key, child_key_fd);
    // The server holds no descriptor of this process's but stdio and these.
    posix_spawn_file_actions_addclosefrom_np(&actions, first_free_fd);
    // Its "listening on" lines are not this program's output.
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    // Whatever this process blocks or ignores, the server starts clean.
    sigset_t none, reset;
    sigemptyset(&none);
    sigemptyset(&reset);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
      sigaddset(&reset, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &reset);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::vector<std::string> server_arguments(const std::string& program, const std::string& dir,
                                          const std::string& socket, const SpawnOptions& options) {
  std::vector<std::string> args = {program, "--listen", "unix:" + socket, "--remove-dir", dir};
  for (const auto& a : options.extra_listen) args.insert(args.end(), {"--listen", a});
  args.insert(args.end(),
              {"--authkey-fd", std::to_string(child_key_fd), "--lifeline-fd",
               std::to_string(child_lifeline_fd), "--ready-fd", std::to_string(child_ready_fd),
               "--max-frame", std::to_string(options.max_frame)});
  const std::pair<const char*, const std::string*> tls[] = {
      {"--tls-cert", &options.server_tls.cert_file},
      {"--tls-key", &options.server_tls.key_file},
      {"--tls-client-ca", &options.server_tls.client_ca_file}};
  for (const auto& [flag, file] : tls)
    if (!file->empty()) args.insert(args.end(), {flag, *file});
  if (options.server_spin.count() > 0)
    args.insert(args.end(), {"--spin-us", std::to_string(options.server_spin.count())});
  return args;
}

}  // namespace

std::unique_ptr<Manager::Spawned> Manager::Spawned::start(const SpawnOptions& options,
                                                          const AuthKey& key) {
  const std::string program =
      detail::find_server_program(detail::default_server_search(options.server_program));
  std::string dir = runtime_dir() + "/mpshare-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) fail(errno_text("mkdtemp"));
  auto spawned = std::make_unique<Spawned>();
  spawned->owner = ::getpid();
  spawned->dir = dir;
  spawned->socket = dir + "/server.sock";

  Pipe lifeline, ready, key_pipe;
  if (!write_all(key_pipe.write, key.bytes())) fail(errno_text("write"));
  key_pipe.close_write();
  spawned->lifeline = lifeline.release_write();
  spawned->lifeline_generation = detail::fork_generation();

  std::vector<std::string> args = server_arguments(program, spawned->dir, spawned->socket, options);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  {
    SpawnSetup setup(lifeline.read, ready.write, key_pipe.read);
    int rc =
        ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), environ);
    if (rc != 0) fail(program + ": " + std::strerror(rc));  // ~Spawned removes the directory
  }
  spawned->server = pid;
  lifeline.close_read();
  ready.close_write();
  key_pipe.close_read();

  // "ok" then the bound addresses (real ports), one a line; or "error: why".
  const std::string report = read_report(ready.read, std::chrono::seconds(10));
  if (report.rfind("ok", 0) != 0) {
    spawned->stop(std::chrono::milliseconds(100));
    fail(report.empty() ? program + " exited without listening (see its message above)" : report);
  }
  for (std::size_t pos = report.find('\n'); pos != std::string::npos;) {
    std::size_t next = report.find('\n', pos + 1);
    spawned->addresses.push_back(
        report.substr(pos + 1, next == std::string::npos ? next : next - pos - 1));
    pos = next;
  }
  if (spawned->addresses.empty()) fail("the server reported no address");
  return spawned;
}

void Manager::Spawned::stop(std::chrono::milliseconds grace) {
  if (::getpid() != owner) return;
  if (lifeline >= 0 && detail::fork_generation() == lifeline_generation)
    detail::close_inherited_fd(lifeline);
  lifeline = -1;
  if (server != 0) {
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
  }
  if (!socket.empty()) ::unlink(socket.c_str());
  if (!dir.empty()) ::rmdir(dir.c_str());
  socket.clear();
  dir.clear();
}

namespace detail {

namespace {

// Empty when `path` is an executable file, else why not.
std::string not_runnable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (::access(path.c_str(), X_OK) != 0) return std::strerror(errno);
  return {};
}

}  // namespace

ServerSearch default_server_search(const std::string& configured) {
  const char* env = std::getenv("MPSHARE_SERVER");
  return {configured, env ? env : "", MPSHARE_INSTALLED_SERVER, MPSHARE_BUILD_TREE_SERVER};
}

std::string find_server_program(const ServerSearch& search) {
  if (!search.configured.empty()) {
    if (auto why = not_runnable(search.configured); !why.empty())
      fail("SpawnOptions::server_program '" + search.configured + "': " + why);
    return search.configured;
  }
  if (!search.environment.empty()) {
    if (auto why = not_runnable(search.environment); !why.empty())
      fail("$MPSHARE_SERVER '" + search.environment + "': " + why);
    return search.environment;
  }
  const std::string why_installed = not_runnable(search.installed);
  if (why_installed.empty()) return search.installed;
  const std::string why_built = not_runnable(search.build_tree);
  if (why_built.empty()) return search.build_tree;
  fail(
      "no mpshare-server program; looked at SpawnOptions::server_program (not set), "
      "$MPSHARE_SERVER (not set), the installed '" +
      search.installed + "' (" + why_installed + ") and the build tree's '" + search.build_tree +
      "' (" + why_built + ")");
}

}  // namespace detail
}  // namespace mpshare
