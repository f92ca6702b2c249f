// What the web page shows: this server's introspection snapshots, in the
// JSON mpshare-cli --json prints, and as metrics.
#include <string>

#include "../introspect.hpp"
#include "../server.hpp"
#include "server_metrics.hpp"

namespace mpshare::server {

http::Source Server::http_source() {
  http::Source s;
  s.info_json = [this] { return to_json(collect_info(*this), false); };
  s.clients_json = [this] { return to_json(collect_clients(*this), false); };
  s.objects_json = [this] { return to_json(collect_objects(registry_), false); };
  s.metrics_text = [this] {
    return http::render_metrics(collect_info(*this), collect_objects(registry_));
  };
  return s;
}

}  // namespace mpshare::server
