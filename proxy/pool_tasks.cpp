// This program's registered tasks, task errors, and the progress line.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <unordered_map>

#include "mpshare/detail/pool_core.hpp"
#include "mpshare/pool.hpp"
#include "pool_internal.hpp"
#include "protocol/handshake.hpp"

namespace mpshare::detail {

namespace {

// Filled before main by MPSHARE_TASK, read afterwards.
struct Registry {
  std::mutex mu;
  std::map<std::string, TaskFn> by_name;
  std::unordered_map<const void*, std::string> by_fn;
  std::map<std::string, std::string> ambiguous;  // name -> why
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: used until exit
  return *r;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool register_task(TaskFn fn) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_name.find(fn.name);
  if (it != r.by_name.end() && it->second.fn != fn.fn) {
    r.ambiguous[fn.name] = "two functions are registered as task '" + fn.name + "' (" +
                           it->second.signature + " and " + fn.signature + ")";
    return true;
  }
  r.by_fn[fn.fn] = fn.name;
  r.by_name[fn.name] = std::move(fn);
  return true;
}

std::vector<TaskFn> registered_tasks() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<TaskFn> out;
  for (const auto& [name, fn] : r.by_name)
    if (!r.ambiguous.count(name)) out.push_back(fn);
  return out;
}

const TaskFn* registered_task(const void* fn) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_fn.find(fn);
  if (it == r.by_fn.end()) return nullptr;
  auto a = r.ambiguous.find(it->second);
  if (a != r.ambiguous.end()) throw ValueError(a->second);
  return &r.by_name.at(it->second);
}

const TaskFn* registered_task(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto a = r.ambiguous.find(name);
  if (a != r.ambiguous.end()) throw ValueError(a->second);
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : &it->second;
}

std::exception_ptr task_exception(TaskStatus status, std::string_view data,
                                  const std::string& task) {
  std::string message;
  try {
    if (status == TaskStatus::error) {
      auto [type, what] = decode<std::pair<std::string, std::string>>(data);
      return std::make_exception_ptr(TaskError(type, what));
    }
    message = decode<std::string>(data);
  } catch (const Error&) {
    message = "(undecodable message)";
  }
  const std::string what = "task " + task + ": " + message;
  switch (status) {
    case TaskStatus::worker_lost:
      return std::make_exception_ptr(WorkerLost(what));
    case TaskStatus::timeout:
      return std::make_exception_ptr(TaskTimeout(what));
    case TaskStatus::cancelled:
      return std::make_exception_ptr(StateError(what));
    case TaskStatus::server_lost:
      return std::make_exception_ptr(ConnectionLost(what));
    default:
      return std::make_exception_ptr(RemoteError(what));
  }
}

std::exception_ptr undecodable_result(const std::string& task, const std::string& why) {
  return std::make_exception_ptr(
      ProtocolError("the result of task " + task + " does not decode: " + why));
}

void print_callback_error(const char* what) noexcept {
  std::fprintf(stderr, "mpshare: a Pool callback threw: %s\n", what);
}

Progress::Progress(bool draw, std::function<void(std::size_t, std::size_t)> callback,
                   std::size_t total)
    : draw_(draw && ::isatty(2)), callback_(std::move(callback)), total_(total) {
  start_ns_ = now_ns();
}

void Progress::update(std::size_t done) {
  if (!draw_ && !callback_) return;
  const std::int64_t now = now_ns();
  const bool last = total_ != 0 && done >= total_;
  if (!last && now - last_ns_ < 100'000'000) return;
  last_ns_ = now;
  if (callback_) callback_(done, total_);
  if (!draw_) return;
  const double secs = static_cast<double>(now - start_ns_) / 1e9;
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  char line[160];
  if (total_ != 0) {
    const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : 0;
    std::snprintf(line, sizeof line, "\r%zu/%zu (%3.0f%%) %.0f/s ETA %.1fs%s", done, total_,
                  100.0 * static_cast<double>(done) / static_cast<double>(total_), rate, eta,
                  last ? "\n" : "   ");
  } else {
    std::snprintf(line, sizeof line, "\r%zu done %.0f/s   ", done, rate);
  }
  std::fputs(line, stderr);
  std::fflush(stderr);
}

std::string random_token() {
  unsigned char b[8];
  random_bytes(b, sizeof b);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

}  // namespace mpshare::detail
