// What the web page shows, from this server's state.
#include <chrono>
#include <string>

#include "../server.hpp"
#include "metrics.hpp"

namespace mpshare::server {

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

http::Source Server::http_source() {
  http::Source s;
  s.info_json = [this] {
    return "{\"sessions\":" + std::to_string(sessions_.size()) +
           ",\"objects\":" + std::to_string(registry_.list().size()) + "}";
  };
  s.clients_json = [] { return std::string("[]"); };
  s.objects_json = [this] {
    std::string out = "[";
    for (const auto& o : registry_.list()) {
      if (out.size() > 1) out += ',';
      out += "{\"name\":" + json_string(o.name) + ",\"kind\":" + json_string(kind_name(o.kind)) +
             ",\"type\":" + json_string(o.type) + ",\"size\":" + std::to_string(o.size) + "}";
    }
    return out + "]";
  };
  s.metrics_text = [this] {
    http::MetricsWriter m;
    m.family("mpshare_sessions", "gauge", "Open client sessions.");
    m.sample(std::uint64_t(sessions_.size()));
    m.family("mpshare_object_size", "gauge", "Items, waiters or bytes of each object, by kind.");
    for (const auto& o : registry_.list())
      m.sample({{"name", o.name}, {"kind", kind_name(o.kind)}}, o.size);
    return m.text();
  };
  return s;
}

}  // namespace mpshare::server
