#include "routes.hpp"

#include <exception>

#include "../log.hpp"

namespace mpshare::server::http {

namespace {

Response document(const std::function<std::string()>& make, const char* content_type,
                  const std::string& path) {
  Response r;
  r.content_type = content_type;
  try {
    r.body = make ? make() : std::string();
  } catch (const std::exception& e) {
    log(LogLevel::error, "http " + path + ": " + e.what());
    return error_response(500);
  }
  return r;
}

}  // namespace

Response route(const Request& request, const Source& source, bool loopback) {
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = error_response(405);
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (loopback && !request.host.empty() && !loopback_host_allowed(request.host))
    return error_response(403);
  const std::string& p = request.path;
  constexpr const char* json = "application/json; charset=utf-8";
  if (p == "/" || p == "/index.html") {
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = page_html();
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; "
                           "style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
    return r;
  }
  if (p == "/api/info") return document(source.info_json, json, p);
  if (p == "/api/clients") return document(source.clients_json, json, p);
  if (p == "/api/objects") return document(source.objects_json, json, p);
  if (p == "/metrics")
    return document(source.metrics_text, "text/plain; version=0.0.4; charset=utf-8", p);
  return error_response(404);
}

}  // namespace mpshare::server::http
