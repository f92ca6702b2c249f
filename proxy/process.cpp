#include "mpshare/process.hpp"

#include <cxxabi.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <typeinfo>

#include "poll_wait.hpp"

namespace mpshare {

namespace detail {

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && d ? d : name;
  std::free(d);
  return out;
}

struct ChildState {
  std::mutex mu;
  pid_t pid = 0;
  int pidfd = -1;
  std::optional<int> code;  // set once reaped

  ~ChildState() {
    if (pidfd >= 0) ::close(pidfd);
  }
  // Reaps the child if it has ended; true when it has. Holds mu.
  bool reap_locked() {
    if (code) return true;
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == pid) {
      code = exit_code_from_status(status);
      return true;
    }
    if (r < 0)
      throw StateError("process " + std::to_string(pid) +
                       " was reaped by someone else (is SIGCHLD ignored?)");
    return false;
  }
  bool reap() {
    std::lock_guard lock(mu);
    return reap_locked();
  }
};

}  // namespace detail

namespace {

// Per-process bookkeeping. A forked child starts a fresh one: another
// thread of the parent may have held the old one's mutex at the fork.
struct Globals {
  std::mutex mu;
  std::string name = "MainProcess";
  std::string identity;  // "" in the main process
  bool daemon = false;
  unsigned counter = 0;
  std::vector<std::weak_ptr<detail::ChildState>> children;
};

std::atomic<Globals*>& globals_ptr() {
  static std::atomic<Globals*> g{new Globals};  // never destroyed: used until _exit
  return g;
}
Globals& globals() {
  return *globals_ptr().load();
}

// Raw system calls: glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
int pidfd_send_signal(int fd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0));
}

void flush_streams() noexcept {
  try {
    std::cout.flush();
    std::cerr.flush();
    std::clog.flush();
  } catch (...) {
  }
  std::fflush(nullptr);
}

}  // namespace

namespace detail {

int exit_code_from_status(int status) noexcept {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return status;
}

void flush_and_exit(int code) noexcept {
  flush_streams();
  ::_exit(code);
}

void run_child_body(const std::string& name, const std::function<void()>& fn) noexcept {
  // std::exit(n) in fn ends here with n, before the parent's atexit
  // handlers and static destructors (registered earlier, run later).
  ::on_exit([](int status, void*) { flush_and_exit(status); }, nullptr);
  int code = 0;
  try {
    fn();
  } catch (const std::exception& e) {
    flush_streams();
    std::fprintf(stderr, "Process %s:\n%s: %s\n", name.c_str(), demangle(typeid(e).name()).c_str(),
                 e.what());
    code = 1;
  } catch (...) {
    flush_streams();
    const std::type_info* t = abi::__cxa_current_exception_type();
    std::fprintf(stderr, "Process %s:\n%s\n", name.c_str(),
                 t ? demangle(t->name()).c_str() : "unknown exception");
    code = 1;
  }
  flush_and_exit(code);
}

}  // namespace detail

void Process::assign_name() {
  Globals& g = globals();
  std::lock_guard lock(g.mu);
  identity_ = (g.identity.empty() ? "" : g.identity + ":") + std::to_string(++g.counter);
  if (options_.name.empty()) options_.name = "Process-" + identity_;
}

Process::Process(Process&& o) noexcept
    : options_(std::move(o.options_)),
      identity_(std::move(o.identity_)),
      target_(std::move(o.target_)),
      child_(std::move(o.child_)) {}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    finish();
    options_ = std::move(o.options_);
    identity_ = std::move(o.identity_);
    target_ = std::move(o.target_);
    child_ = std::move(o.child_);
  }
  return *this;
}

Process::~Process() {
  finish();
}

void Process::finish() noexcept {
  if (!child_) return;
  try {
    if (options_.daemon) signal(SIGKILL);
    join();
  } catch (...) {
  }
  child_.reset();
}

void Process::start() {
  if (child_) throw StateError("process '" + options_.name + "' already started");
  if (!target_) throw StateError("start() on a moved-from Process");
  const pid_t parent = ::getpid();
  flush_streams();  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid < 0) throw StateError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (options_.daemon) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::raise(SIGKILL);  // the parent died before prctl
    }
    auto* g = new Globals;  // the old one may be locked by a thread that is not here
    g->name = options_.name;
    g->identity = identity_;
    g->daemon = options_.daemon;
    globals_ptr().store(g);
    target_->after_fork_in_child();
    detail::ProcessTarget& target = *target_;
    detail::run_child_body(options_.name, [&target] { target.run(); });
  }
  const int fd = pidfd_open(pid);
  if (fd < 0) {
    const int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw StateError(std::string("pidfd_open: ") + std::strerror(err));
  }
  auto state = std::make_shared<detail::ChildState>();
  state->pid = pid;
  state->pidfd = fd;
  child_ = state;
  {
    Globals& g = globals();
    std::lock_guard lock(g.mu);
    g.children.push_back(state);
  }
  target_->after_fork_in_parent();
}

void Process::join() {
  if (!child_) throw StateError("can only join a started process");
  while (!child_->reap()) detail::wait_readable(child_->pidfd, std::chrono::milliseconds(-1));
}

bool Process::join_for(std::chrono::milliseconds timeout) {
  if (!child_) throw StateError("can only join a started process");
  if (child_->reap()) return true;
  if (!detail::wait_readable(child_->pidfd, std::max(timeout, std::chrono::milliseconds(0))))
    return false;
  return child_->reap();
}

std::optional<int> Process::exitcode() const {
  if (!child_ || !child_->reap()) return std::nullopt;
  return child_->code;
}

bool Process::is_alive() const {
  return child_ && !child_->reap();
}

pid_t Process::pid() const {
  return child_ ? child_->pid : 0;
}

int Process::sentinel() const {
  return child_ ? child_->pidfd : -1;
}

void Process::terminate() {
  signal(SIGTERM);
}
void Process::kill() {
  signal(SIGKILL);
}

void Process::signal(int sig) {
  if (!child_) throw StateError("process '" + options_.name + "' not started");
  std::lock_guard lock(child_->mu);
  if (child_->code) return;  // reaped: the pid may belong to another process now
  pidfd_send_signal(child_->pidfd, sig);
}

const std::string& CurrentProcess::name() const {
  return globals().name;
}
pid_t CurrentProcess::pid() const {
  return ::getpid();
}
bool CurrentProcess::daemon() const {
  return globals().daemon;
}
CurrentProcess current_process() {
  return {};
}

std::vector<pid_t> active_children() {
  Globals& g = globals();
  std::lock_guard lock(g.mu);
  std::vector<pid_t> out;
  std::erase_if(g.children, [&](const std::weak_ptr<detail::ChildState>& w) {
    auto s = w.lock();
    if (!s) return true;
    bool ended = true;
    try {
      ended = s->reap();
    } catch (const StateError&) {
    }
    if (!ended) out.push_back(s->pid);
    return ended;
  });
  return out;
}

std::size_t cpu_count() {
  for (int n = 1024; n <= (1 << 20); n *= 2) {
    cpu_set_t* set = CPU_ALLOC(n);
    if (!set) break;
    const std::size_t size = CPU_ALLOC_SIZE(n);
    const bool ok = ::sched_getaffinity(0, size, set) == 0;
    const int count = ok ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (ok) return static_cast<std::size_t>(std::max(count, 1));
    if (errno != EINVAL) break;
  }
  return static_cast<std::size_t>(std::max(::sysconf(_SC_NPROCESSORS_ONLN), 1L));
}

}  // namespace mpshare
