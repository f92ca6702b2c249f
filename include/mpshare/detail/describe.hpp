// How error messages show a value the client sent (a Dict key, a Set
// item): the server holds only its encoded bytes, so the proxy that still
// has the value names it.
#pragma once

#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace mpshare::detail {

// At most this many characters of a value appear in a message.
inline constexpr std::size_t describe_limit = 64;

// `text` with non-printable bytes as \xNN, cut to describe_limit
// characters ("..." marks a cut).
inline std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= describe_limit) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

// The value as a message shows it: strings quoted, anything an ostream
// prints as printed; empty when the type cannot be printed.
template <class T>
std::string describe(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return "'" + printable(std::string_view(value)) + "'";
  } else if constexpr (requires(std::ostream & o) { o << value; }) {
    std::ostringstream out;
    out << value;
    return printable(out.str());
  } else {
    return {};
  }
}

// "<what> <value> not found in <kind> '<name>'", or `fallback` when the
// value cannot be printed.
template <class T>
std::string not_found(std::string_view what, const T& value, std::string_view kind,
                      const std::string& name, const std::string& fallback) {
  std::string shown = describe(value);
  if (shown.empty()) return fallback;
  return std::string(what) + " " + shown + " not found in " + std::string(kind) + " '" + name + "'";
}

}  // namespace mpshare::detail
