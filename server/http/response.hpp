// HTTP/1.1 responses of the web page's server. Copyable values; no sockets.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpshare::server::http {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond the standard ones
};

// A plain-text error response ("404 Not Found\n").
Response error_response(int status);

// The bytes on the wire: status line, headers (Content-Length,
// Connection: close, no caching, no sniffing), blank line, then the body
// unless `head_only`.
std::string serialize(const Response& response, bool head_only);

std::string_view reason_phrase(int status) noexcept;

}  // namespace mpshare::server::http
