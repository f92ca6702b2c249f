// Process: a callable run in a child process, as Python's
// multiprocessing.Process with the fork start method.
//
//   void worker(int n, std::string tag);
//   mpshare::Process p(worker, 1, "a");
//   p.start();
//   p.join();                          // or p.join(2s): false while it runs
//   std::optional<int> rc = p.exitcode();
//
// Arguments: like std::thread, the callable and its arguments are
// decay-copied (moved from rvalues) when the Process is constructed; in the
// child they are passed to the callable as rvalues. A Pipe end
// (mpshare::Connection) passed by value as an argument is closed in the
// parent once the child has started, and in the child the other end of the
// same pipe, if this process held it, is closed: end of file then arrives
// in both directions when the other side is done. An end captured by
// reference in a lambda stays open in both processes (Python's classic
// end-of-file hang): pass ends as arguments.
//
// Exit codes follow Python: 0 after a normal return; 1 when the callable
// threw (the exception's type and what() are written to stderr); n after
// std::exit(n); -N when a signal N ended the child.
//
// The child: start() forks the calling thread. Only that thread exists in
// the child: other threads of the parent do not run there, and a mutex one
// of them held stays locked in the child, so the callable should not use
// state other threads guard. mpshare proxies are safe: the child opens its
// own connections. The child ends with _exit after flushing stdio, also
// when the callable calls std::exit: the parent's atexit handlers and
// static destructors never run in the child, and a Manager copied into the
// child never stops its server.
//
// Lifetime: ~Process of a started, unjoined non-daemon process joins it
// (like std::jthread). A daemon is killed and reaped instead, and a daemon
// also dies when its parent dies, even by kill -9 (PR_SET_PDEATHSIG). The
// kernel ties that signal to the thread that called start(): a daemon
// started from a thread that ends before the process is killed with it.
// Start daemons from a long-lived thread.
//
// Reaping: a Process waits only for its own child (waitpid on its pid),
// never for any child, so it does not steal other libraries' children.
//
// Thread safety: a Process is used by one thread at a time, like
// std::thread. active_children(), cpu_count() and current_process() may be
// called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpshare/errors.hpp"

namespace mpshare {

struct ProcessOptions {
  std::string name{};  // empty: "Process-N" as Python names them
  bool daemon = false;
};

class ConnectionBase;  // pipe.hpp

namespace detail {

// Pipe ends given to a child (pipe.cpp): closed in the parent after the
// fork; in the child, each end is marked, then the peers held by this
// process that were not given too are closed.
void close_handed_off(ConnectionBase& end) noexcept;
void mark_handed_off(ConnectionBase& end) noexcept;
void close_peer_in_child(ConnectionBase& end) noexcept;

template <class A>
constexpr bool is_pipe_end = std::is_base_of_v<ConnectionBase, A>;

// What a Process runs in its child, type-erased.
class ProcessTarget {
 public:
  virtual ~ProcessTarget() = default;
  virtual void run() = 0;                           // in the child
  virtual void after_fork_in_child() noexcept = 0;  // before run()
  virtual void after_fork_in_parent() noexcept = 0;
};

template <class F, class... A>
class ProcessTargetOf final : public ProcessTarget {
 public:
  template <class G, class... B>
  explicit ProcessTargetOf(G&& f, B&&... args)
      : f_(std::forward<G>(f)), args_(std::forward<B>(args)...) {}

  void run() override {
    std::apply([this](A&... a) { std::invoke(std::move(f_), std::move(a)...); }, args_);
  }
  void after_fork_in_child() noexcept override {
    std::apply([](A&... a) { (mark(a), ...); }, args_);
    std::apply([](A&... a) { (close_peer(a), ...); }, args_);
  }
  void after_fork_in_parent() noexcept override {
    std::apply([](A&... a) { (close_end(a), ...); }, args_);
  }

 private:
  template <class X>
  static void mark(X& x) noexcept {
    if constexpr (is_pipe_end<X>) mark_handed_off(x);
  }
  template <class X>
  static void close_peer(X& x) noexcept {
    if constexpr (is_pipe_end<X>) close_peer_in_child(x);
  }
  template <class X>
  static void close_end(X& x) noexcept {
    if constexpr (is_pipe_end<X>) close_handed_off(x);
  }

  F f_;
  std::tuple<A...> args_;
};

struct ChildState;  // process.cpp: pid, pidfd, exit status; shared with active_children()

// Python's exit code from a waitpid() status.
int exit_code_from_status(int status) noexcept;
// Flushes stdio (C and C++ streams) and ends this process with _exit.
[[noreturn]] void flush_and_exit(int code) noexcept;
// Runs `fn` as a child body: Python's exit code rules (a std::exit(n)
// inside fn ends with n, without the parent's atexit handlers), exception
// type and what() to stderr under `name`. Never returns.
// The readable name of a type from typeid(...).name().
std::string demangle(const char* name);
[[noreturn]] void run_child_body(const std::string& name, const std::function<void()>& fn) noexcept;

template <class T>
constexpr bool is_process_options = std::is_same_v<std::remove_cvref_t<T>, ProcessOptions>;

}  // namespace detail

class Process {
 public:
  template <class F, class... A>
  requires(!detail::is_process_options<F> && !std::is_same_v<std::remove_cvref_t<F>, Process> &&
           std::is_invocable_v<std::decay_t<F>, std::decay_t<A>...>) explicit Process(F&& f,
                                                                                      A&&... args)
      : Process(ProcessOptions{}, std::forward<F>(f), std::forward<A>(args)...) {}

  template <class F, class... A>
  requires std::is_invocable_v<std::decay_t<F>, std::decay_t<A>...> Process(ProcessOptions options,
                                                                            F&& f, A&&... args)
      : options_(std::move(options)),
        target_(std::make_unique<detail::ProcessTargetOf<std::decay_t<F>, std::decay_t<A>...>>(
            std::forward<F>(f), std::forward<A>(args)...)) {
    assign_name();
  }

  Process(Process&&) noexcept;
  // Joins (or, for a daemon, kills) the child this Process held first.
  Process& operator=(Process&&) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  // Forks the child and runs the callable there. StateError when started
  // twice.
  void start();
  // Waits for the child to end. StateError before start().
  void join();
  // False when the child still runs after `timeout`.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return join_for(std::chrono::ceil<std::chrono::milliseconds>(timeout));
  }

  // nullopt until the child has ended (never started included).
  std::optional<int> exitcode() const;
  bool is_alive() const;
  // 0 before start().
  pid_t pid() const;
  const std::string& name() const { return options_.name; }
  bool daemon() const { return options_.daemon; }
  // A descriptor readable once the child has ended (a pidfd); -1 before
  // start(). Owned by the Process: do not close it.
  int sentinel() const;
  // SIGTERM and SIGKILL. Nothing once the child was reaped.
  void terminate();
  void kill();

 private:
  void assign_name();
  bool join_for(std::chrono::milliseconds timeout);
  void signal(int sig);
  void finish() noexcept;

  ProcessOptions options_;
  std::string identity_;  // "1", or "2:1" in a child's second child
  std::unique_ptr<detail::ProcessTarget> target_;
  std::shared_ptr<detail::ChildState> child_;
};

// Who this process is: "MainProcess" unless a Process started it, whose
// name and daemon flag it then has.
class CurrentProcess {
 public:
  const std::string& name() const;
  pid_t pid() const;
  bool daemon() const;
};
CurrentProcess current_process();

// Pids of this process's started Processes that are still running (as
// Python, finished ones are reaped on the way).
std::vector<pid_t> active_children();

// The CPUs this process may run on (its affinity mask), as Python's
// os.process_cpu_count(). At least 1.
std::size_t cpu_count();

}  // namespace mpshare
