#include "request.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace mpshare::server::http {

namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The next line of `rest` without its CR LF (or LF); advances `rest`.
std::string_view next_line(std::string_view& rest) {
  const auto lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// Parses "HOST:PORT" (IPv6 in brackets) or a bare "HOST"; false when malformed.
bool split_host_port(std::string_view s, std::string_view& host, std::string_view& port) {
  port = {};
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = s.substr(1, close - 1);
    std::string_view after = s.substr(close + 1);
    if (after.empty()) return true;
    if (after.front() != ':') return false;
    port = after.substr(1);
    return true;
  }
  const auto colon = s.rfind(':');
  host = s.substr(0, colon);
  if (colon != std::string_view::npos) {
    if (host.find(':') != std::string_view::npos) return false;  // unbracketed IPv6
    port = s.substr(colon + 1);
  }
  return true;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

}  // namespace

std::size_t head_end(std::string_view received) {
  for (std::size_t i = received.find('\n'); i != std::string_view::npos;
       i = received.find('\n', i + 1)) {
    if (i + 1 < received.size() && received[i + 1] == '\n') return i + 2;
    if (i + 2 < received.size() && received[i + 1] == '\r' && received[i + 2] == '\n') return i + 3;
  }
  return 0;
}

ParseResult parse_request(std::string_view head) {
  ParseResult bad{std::nullopt, 400};
  std::string_view rest = head;
  const std::string_view line = next_line(rest);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return bad;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || target.front() != '/' || has_control(target))
    return bad;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[5])) ||
      !std::isdigit(static_cast<unsigned char>(version[7])))
    return bad;
  if (version[5] != '1') return {std::nullopt, 505};

  Request r;
  r.method = method;
  r.path = target.substr(0, target.find_first_of("?#"));
  r.minor_version = version[7] - '0';
  bool seen_host = false;
  for (std::string_view h = next_line(rest); !h.empty(); h = next_line(rest)) {
    if (h.front() == ' ' || h.front() == '\t') return bad;  // obsolete line folding
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || !is_token(h.substr(0, colon))) return bad;
    const std::string_view value = trim(h.substr(colon + 1));
    if (has_control(value)) return bad;
    if (iequals(h.substr(0, colon), "host")) {
      if (seen_host) return bad;
      seen_host = true;
      r.host = value;
    }
  }
  if (r.minor_version >= 1 && !seen_host) return bad;
  return {std::move(r), 0};
}

bool loopback_host_allowed(std::string_view host) {
  std::string_view name, port;
  if (!split_host_port(host, name, port)) return false;
  if (!port.empty() && !all_digits(port)) return false;
  if (iequals(name, "localhost")) return true;
  const std::string n(name);
  unsigned char buf[16];
  return ::inet_pton(AF_INET, n.c_str(), buf) == 1 || ::inet_pton(AF_INET6, n.c_str(), buf) == 1;
}

ListenAddress parse_listen_address(const std::string& spec) {
  std::string_view s = spec;
  if (s.substr(0, 7) == "http://") s.remove_prefix(7);
  std::string_view host = "127.0.0.1", port = s;
  if (!all_digits(s)) {
    if (!split_host_port(s, host, port) || host.empty())
      throw std::invalid_argument("'" + spec + "' is not PORT or HOST:PORT");
  }
  if (!all_digits(port) || port.size() > 5 || std::stoul(std::string(port)) > 65535)
    throw std::invalid_argument("bad port in '" + spec + "' (0 to 65535; 0 picks a free one)");
  return {std::string(host), static_cast<std::uint16_t>(std::stoul(std::string(port)))};
}

}  // namespace mpshare::server::http
