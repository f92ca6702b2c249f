#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>

namespace mpshare::server {

namespace {

std::atomic<LogLevel> g_level{LogLevel::warn};

constexpr const char* level_names[] = {"error", "warn", "info", "debug"};

// The last line written, and how many times it came again since.
struct Repeats {
  std::mutex mutex;
  LogLevel level = LogLevel::error;
  std::string text;
  std::uint64_t count = 0;
  std::chrono::steady_clock::time_point last_summary;
};

Repeats& repeats() {
  static Repeats r;
  return r;
}

std::string timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string format(LogLevel level, const std::string& text) {
  return timestamp() + " mpshare-server[" + std::to_string(::getpid()) + "] " +
         level_names[static_cast<int>(level)] + ": " + text + "\n";
}

void write_all(const std::string& s) {
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, s.data(), s.size());
}

// With r.mutex held: the summary of r's repeats, or "".
std::string take_summary(Repeats& r) {
  if (r.count == 0) return {};
  std::string s = format(r.level, "last message repeated " + std::to_string(r.count) +
                                      (r.count == 1 ? " time" : " times"));
  r.count = 0;
  r.last_summary = std::chrono::steady_clock::now();
  return s;
}

}  // namespace

void set_log_level(LogLevel level) noexcept {
  g_level.store(level);
}
LogLevel log_level() noexcept {
  return g_level.load();
}
bool log_enabled(LogLevel level) noexcept {
  return level <= g_level.load(std::memory_order_relaxed);
}

LogLevel parse_log_level(std::string_view s) {
  if (s == "error") return LogLevel::error;
  if (s == "warn") return LogLevel::warn;
  if (s == "info") return LogLevel::info;
  if (s == "debug") return LogLevel::debug;
  throw std::invalid_argument("unknown log level '" + std::string(s) +
                              "' (error, warn, info or debug)");
}

void log(LogLevel level, const std::string& text) {
  if (!log_enabled(level)) return;
  Repeats& r = repeats();
  std::string out;
  {
    std::lock_guard lock(r.mutex);
    if (level == r.level && text == r.text) {
      ++r.count;
      if (std::chrono::steady_clock::now() - r.last_summary >= std::chrono::seconds(1))
        out = take_summary(r);
    } else {
      out = take_summary(r) + format(level, text);
      r.level = level;
      r.text = text;
      r.last_summary = std::chrono::steady_clock::now();
    }
  }
  if (!out.empty()) write_all(out);
}

void log_flush() {
  Repeats& r = repeats();
  std::string out;
  {
    std::lock_guard lock(r.mutex);
    out = take_summary(r);
  }
  if (!out.empty()) write_all(out);
}

}  // namespace mpshare::server
