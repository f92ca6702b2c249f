#include "response.hpp"

namespace mpshare::server::http {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

Response error_response(int status) {
  Response r;
  r.status = status;
  r.body = std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n";
  return r;
}

std::string serialize(const Response& response, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(reason_phrase(response.status)) + "\r\n";
  auto header = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  header("Content-Type", response.content_type);
  header("Content-Length", std::to_string(response.body.size()));
  header("Cache-Control", "no-store");
  header("X-Content-Type-Options", "nosniff");
  header("Connection", "close");
  for (const auto& [name, value] : response.headers) header(name, value);
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

}  // namespace mpshare::server::http
