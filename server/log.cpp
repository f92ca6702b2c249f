#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <stdexcept>

namespace mpshare::server {

namespace {
std::atomic<LogLevel> g_level{LogLevel::warn};
}

void set_log_level(LogLevel level) noexcept {
  g_level.store(level);
}
LogLevel log_level() noexcept {
  return g_level.load();
}

LogLevel parse_log_level(std::string_view s) {
  if (s == "error") return LogLevel::error;
  if (s == "warn") return LogLevel::warn;
  if (s == "info") return LogLevel::info;
  if (s == "debug") return LogLevel::debug;
  throw std::invalid_argument("unknown log level: " + std::string(s));
}

void log(LogLevel level, const std::string& line) {
  if (level > g_level.load(std::memory_order_relaxed)) return;
  static constexpr const char* names[] = {"error", "warn", "info", "debug"};
  std::string out = "mpshare-server[" + std::to_string(::getpid()) + "] " +
                    names[static_cast<int>(level)] + ": " + line + "\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
}

}  // namespace mpshare::server
