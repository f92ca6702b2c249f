// /metrics of a live server. Pure function of its snapshots; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "mpshare/introspect.hpp"

namespace mpshare::server::http {

// The Prometheus text exposition of `info` and `objects`: server-wide
// gauges and counters, per-op counters, and per-object gauges labelled
// with the object's name and kind (one family per kind-specific field,
// e.g. mpshare_object_depth for a queue's depth).
std::string render_metrics(const ServerInfo& info, const std::vector<ObjectDetail>& objects);

}  // namespace mpshare::server::http
