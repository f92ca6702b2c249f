// Producer/consumer with worker processes, the multiprocessing way:
//  1. a producer process feeds a bounded Queue and shuts it down when done;
//     a consumer process drains it until get() throws ShutDown (no
//     sentinel value needed);
//  2. worker processes take tasks from a JoinableQueue and report results on
//     a Queue; the parent waits for every task with join(), then shuts the
//     queue down to end the workers.
// Exits non-zero if any item is lost, duplicated or out of order.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <numeric>
#include <vector>

namespace {

// Runs fn in a child process; the child exits 0 when fn returns true.
template <class F>
pid_t spawn_process(F fn) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 1;
    try {
      code = fn() ? 0 : 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "worker %d: %s\n", ::getpid(), e.what());
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  return pid;
}

bool exited_ok(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Task {
  int id = 0;
  std::vector<int> numbers;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(id, numbers);
  }
};

}  // namespace

template <>
struct mpshare::TypeName<Task> {
  static std::string get() { return "Task"; }
};

int main() {
  using namespace std::chrono_literals;
  auto mgr = mpshare::Manager::spawn();
  bool ok = true;

  // 1. One producer, one consumer, a queue of at most 32 items.
  constexpr int items = 10000;
  auto jobs = mgr.queue<int>("jobs", 32);
  pid_t producer = spawn_process([&] {
    for (int i = 0; i < items; ++i) jobs.put(i);
    jobs.shutdown();  // no more work: gets drain what is left, then throw ShutDown
    return true;
  });
  pid_t consumer = spawn_process([&] {
    int expected = 0;
    try {
      for (;;) {
        if (jobs.get() != expected) return false;
        ++expected;
      }
    } catch (const mpshare::ShutDown&) {
      // drained: the producer is done
    }
    return expected == items;
  });
  ok &= exited_ok(producer);
  ok &= exited_ok(consumer);
  std::printf("queue: %d items from producer to consumer: %s\n", items, ok ? "ok" : "FAILED");

  // 2. Three workers sum the numbers of each task; join() returns when
  //    every task has been marked done.
  constexpr int workers = 3, tasks = 200;
  auto todo = mgr.joinable_queue<Task>("todo");
  auto results = mgr.queue<std::pair<int, long>>("results");
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w)
    pids.push_back(spawn_process([&] {
      for (;;) {
        Task t;
        try {
          t = todo.get();
        } catch (const mpshare::ShutDown&) {
          return true;
        }
        results.put({t.id, std::accumulate(t.numbers.begin(), t.numbers.end(), 0L)});
        todo.task_done();
      }
    }));
  long expected_total = 0;
  for (int i = 0; i < tasks; ++i) {
    Task t{i, std::vector<int>(static_cast<std::size_t>(i % 10 + 1), i)};
    expected_total += static_cast<long>(t.numbers.size()) * i;
    todo.put(t);
  }
  todo.join();  // every task processed and its result put
  std::vector<bool> seen(tasks, false);
  long total = 0;
  for (auto& [id, sum] : results.get_many(tasks, 0s)) {
    if (id < 0 || id >= tasks || seen[static_cast<std::size_t>(id)])
      ok = false;
    else
      seen[static_cast<std::size_t>(id)] = true;
    total += sum;
  }
  bool all_seen = std::all_of(seen.begin(), seen.end(), [](bool b) { return b; });
  todo.shutdown();  // every worker's next get() throws ShutDown
  for (pid_t p : pids) ok &= exited_ok(p);
  ok &= all_seen && total == expected_total;
  std::printf("joinable_queue: %d tasks over %d workers, total %ld (expected %ld): %s\n", tasks,
              workers, total, expected_total,
              all_seen && total == expected_total ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
