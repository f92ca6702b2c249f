// What the web page's server answers: the page, /api/* and /metrics.
// Read-only: nothing here changes the server's state.
#pragma once

#include <functional>
#include <string>

#include "request.hpp"
#include "response.hpp"

namespace mpshare::server::http {

// Where the documents come from. Each function runs on the event-loop
// thread and returns a whole document; one that throws gives a 500.
struct Source {
  std::function<std::string()> info_json;     // /api/info
  std::function<std::string()> clients_json;  // /api/clients
  std::function<std::string()> objects_json;  // /api/objects
  std::function<std::string()> metrics_text;  // /metrics (Prometheus text format)
};

// The answer to `request`. `loopback`: the listener is bound to a loopback
// address, so only loopback Host names are served (see loopback_host_allowed).
Response route(const Request& request, const Source& source, bool loopback);

// The page at "/": inline HTML, CSS and script, nothing fetched from elsewhere.
const std::string& page_html();

}  // namespace mpshare::server::http
