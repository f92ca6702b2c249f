#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "fd_registry.hpp"
#include "pool_internal.hpp"

namespace mpshare::detail {

namespace {

[[noreturn]] void run_fork_server(std::size_t count, const std::function<int()>& body,
                                  int command) {
  ::signal(SIGCHLD, SIG_DFL);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  const pid_t self = ::getpid();
  std::set<pid_t> live;
  bool closing = false;
  int status = 0;
  int quick_deaths = 0;
  auto start = [&] {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != self) ::_exit(worker_exit_server_gone);
      ::close(sfd);
      ::close(command);
      ::sigprocmask(SIG_UNBLOCK, &chld, nullptr);
      int code = worker_exit_server_gone;
      try {
        code = body();
      } catch (...) {
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    if (pid > 0) live.insert(pid);
  };
  auto kill_all = [&] {
    for (pid_t p : live) ::kill(p, SIGKILL);
    closing = true;
  };
  for (std::size_t i = 0; i < count; ++i) start();
  while (!(closing && live.empty())) {
    pollfd fds[2] = {{command, POLLIN, 0}, {sfd, POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) {
      char c = 0;
      ssize_t n = ::read(command, &c, 1);
      if (n <= 0 || c == 't') kill_all();
      if (n <= 0) {
        ::close(command);
        command = -1;
      }
    }
    if (fds[1].revents != 0) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof info) > 0) {
      }
      int ws = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &ws, WNOHANG)) > 0) {
        if (live.erase(pid) == 0) continue;
        const int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
        if (code == worker_exit_closed) {
          closing = true;
        } else if (code == worker_exit_server_gone || code == worker_exit_refused) {
          closing = true;
          status = 1;
        } else if (!closing) {
          // A worker that keeps dying at start (its initializer fails) is
          // replaced at a bounded pace.
          if (code == worker_exit_init_failed && ++quick_deaths > 3) ::usleep(100000);
          start();
        }
      }
    }
    if (command < 0 && !closing) kill_all();
  }
  ::_exit(status);
}

}  // namespace

ForkServer::ForkServer(std::size_t count, std::function<int()> body) {
  int fds[2];
  if (open_inherited_fd([&] { return ::pipe2(fds, O_CLOEXEC) == 0 ? fds[1] : -1; }) < 0)
    throw Error(Errc::remote_error, std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    close_inherited_fd(fds[1]);
    ::close(fds[0]);
    throw Error(Errc::remote_error, std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) run_fork_server(count, body, fds[0]);  // fds[1] closed at fork
  ::close(fds[0]);
  command_ = fds[1];
}

ForkServer::~ForkServer() {
  if (status_ < 0) {
    terminate();
    join();
  }
}

void ForkServer::terminate() {
  if (command_ < 0) return;
  char c = 't';
  while (::write(command_, &c, 1) < 0 && errno == EINTR) {
  }
}

int ForkServer::join() {
  if (status_ >= 0) return status_;
  int ws = 0;
  while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
  }
  status_ = WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
  if (command_ >= 0) close_inherited_fd(command_);
  command_ = -1;
  return status_;
}

}  // namespace mpshare::detail
