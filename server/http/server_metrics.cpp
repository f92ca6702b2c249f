// /metrics: a live server's introspection snapshots in the Prometheus text
// format, names in the mpshare_ namespace.
#include "server_metrics.hpp"

#include <map>
#include <stdexcept>

#include "metrics.hpp"

namespace mpshare::server::http {

std::string render_metrics(const ServerInfo& info, const std::vector<ObjectDetail>& objects) {
  MetricsWriter m;
  m.family("mpshare_info", "gauge", "Always 1; the server's version as a label.");
  m.sample({{"version", info.version}}, std::uint64_t(1));
  m.single("mpshare_start_time_seconds", "gauge", "When the server started, Unix time.",
           static_cast<double>(info.started_at_ms) / 1000.0);
  m.single("mpshare_uptime_seconds", "gauge", "Seconds since the server started.", info.uptime_s);
  m.single("mpshare_sessions", "gauge", "Client connections open now.", info.sessions);
  m.single("mpshare_sessions_accepted_total", "counter", "Client connections accepted.",
           info.sessions_total);
  m.single("mpshare_objects", "gauge", "Objects the server hosts.", info.objects);
  m.single("mpshare_resident_memory_bytes", "gauge", "The server process's resident set.",
           info.memory_rss_bytes);
  m.single("mpshare_requests_total", "counter", "Requests handled, every op.", info.requests);
  m.family("mpshare_op_requests_total", "counter", "Requests handled, by op.");
  for (const auto& op : info.ops) m.sample({{"op", op.op}}, op.count);
  m.family("mpshare_op_errors_total", "counter", "Requests answered with an error, by op.");
  for (const auto& op : info.ops) m.sample({{"op", op.op}}, op.errors);
  m.single("mpshare_received_bytes_total", "counter", "Bytes read from clients.", info.bytes_in);
  m.single("mpshare_sent_bytes_total", "counter", "Bytes written to clients.", info.bytes_out);
  m.single("mpshare_auth_failures_total", "counter", "Handshakes refused.", info.auth_failures);

  m.family("mpshare_object_size", "gauge", "Items, waiters or bytes of each object, by kind.");
  for (const auto& o : objects) m.sample({{"name", o.name}, {"kind", o.kind}}, o.size);
  m.family("mpshare_object_holders", "gauge", "Sessions holding each object (locks, permits).");
  for (const auto& o : objects)
    m.sample({{"name", o.name}, {"kind", o.kind}}, std::uint64_t(o.holders.size()));
  m.family("mpshare_object_waiters", "gauge", "Requests parked on each object.");
  for (const auto& o : objects)
    m.sample({{"name", o.name}, {"kind", o.kind}}, std::uint64_t(o.waiters.size()));
  // Each kind's own numbers (a queue's depth, a semaphore's value, ...),
  // one family per field: mpshare_object_depth{name="jobs",kind="queue"}.
  std::map<std::string, std::vector<const ObjectDetail*>> fields;
  for (const auto& o : objects)
    for (const auto& [field, value] : o.state) fields[field].push_back(&o);
  for (const auto& [field, holders] : fields) {
    if (field == "size" || field == "holders" || field == "waiters") continue;  // above
    try {
      m.family("mpshare_object_" + field, "gauge",
               "The field '" + field + "' of each object that has one.");
    } catch (const std::invalid_argument&) {
      continue;  // not a metric name
    }
    for (const ObjectDetail* o : holders)
      m.sample({{"name", o->name}, {"kind", o->kind}}, static_cast<double>(o->state.at(field)));
  }
  return m.text();
}

}  // namespace mpshare::server::http
