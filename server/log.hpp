// One-line logging to stderr. Thread-safe (each line is one write).
//
// A line: "2026-11-25T02:31:04.123Z mpshare-server[PID] LEVEL: TEXT", where
// TEXT about a session begins "session N (PEER): " (SessionBase::tag()).
// A line whose level and text equal the previous line's is not written;
// the next different line, or the first repeat a second or more after the
// last summary, is preceded by "last message repeated N times", so a flood
// of one complaint costs about a line a second.
#pragma once

#include <string>
#include <string_view>

namespace mpshare::server {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;
// Whether a line of `level` would be written: cheap, for the hot path.
bool log_enabled(LogLevel level) noexcept;
// Parses "error", "warn", "info", "debug"; throws std::invalid_argument.
LogLevel parse_log_level(std::string_view s);
void log(LogLevel level, const std::string& line);
// Writes out a pending "last message repeated" line (at exit).
void log_flush();

}  // namespace mpshare::server
