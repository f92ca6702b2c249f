// One-line logging to stderr. Thread-safe (each line is one write).
#pragma once

#include <string>
#include <string_view>

namespace mpshare::server {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;
// Parses "error", "warn", "info", "debug"; throws std::invalid_argument.
LogLevel parse_log_level(std::string_view s);
void log(LogLevel level, const std::string& line);

}  // namespace mpshare::server
