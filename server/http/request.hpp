// HTTP/1.x requests as the web page's server reads them: the request line
// and the headers, nothing more (GET and HEAD have no body worth reading).
// Pure functions on bytes; no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mpshare::server::http {

// A request head is at most this long; a longer one gets 431.
inline constexpr std::size_t max_request_head = 16 * 1024;

struct Request {
  std::string method;     // "GET", "HEAD", ... as sent
  std::string path;       // the target's path, without the query
  std::string host;       // the Host header, empty when absent
  int minor_version = 1;  // HTTP/1.minor_version
};

// Where the head (request line and headers) ends: the offset just past its
// blank line, or 0 while it is incomplete. Accepts bare LF line ends.
std::size_t head_end(std::string_view received);

// A parsed head, or the status to answer instead (400, 505, ...).
struct ParseResult {
  std::optional<Request> request;
  int status = 0;
};
ParseResult parse_request(std::string_view head);

// May a request naming `host` (its Host header) be served by a listener
// bound to a loopback address? Only names that cannot be rebound to another
// machine by a web page: IP literals and "localhost", any port. Guards the
// page against DNS rebinding.
bool loopback_host_allowed(std::string_view host);

// Where --http listens: "PORT", "HOST:PORT", "[V6]:PORT" or
// "http://HOST:PORT". A bare port binds 127.0.0.1. Throws
// std::invalid_argument naming the bad part.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
ListenAddress parse_listen_address(const std::string& spec);

}  // namespace mpshare::server::http
