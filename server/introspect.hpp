// Snapshots of a live server for the introspection ops (Info, Clients,
// ObjectsDetail), the web page and /metrics: see mpshare/introspect.hpp.
//
// Thread safety: call these only on the server's event-loop thread (from a
// handler, or a completion handler of the server's io_context, e.g. one
// posted with asio::post(server.io(), ...)). Each runs to completion there,
// so a snapshot is consistent. Cost: O(objects + parked waits) for
// objects and clients, O(ops) for info; nothing is kept between calls but
// the samples the request rates are computed from.
#pragma once

#include <chrono>
#include <deque>
#include <vector>

#include "counters.hpp"
#include "mpshare/introspect.hpp"
#include "object.hpp"

namespace mpshare::server {

class Server;
class Registry;
class SessionBase;

ServerInfo collect_info(const Server& server);
// `caller`: the session asking (marked is_caller), or 0.
std::vector<ClientInfo> collect_clients(const Server& server, SessionId caller = 0);
std::vector<ObjectDetail> collect_objects(const Registry& registry);
// What `session` holds of the objects it used (what its disconnect will
// release; only those are visited), as a log line's words:
// "lock 'a' (token 3), 2 permits of 's'"; "" when it holds nothing.
std::string holdings_of(const Registry& registry, SessionId session);

// May `session` stop `server`? Its spawner (the server process's parent,
// by SO_PEERCRED) may; anyone may with --allow-shutdown.
bool may_stop(const Server& server, const SessionBase& session);

// Recent request counts, for rates: a sample at most every second, the
// last ten seconds kept. Used only on the event-loop thread.
class RateSamples {
 public:
  struct Rates {
    double requests = 0;
    std::vector<double> ops;  // by op index
  };
  // Rates since the oldest kept sample (the average since `started` when
  // none is half a second old yet); keeps `now` as a sample.
  Rates update(const ServerCounters& c, std::chrono::steady_clock::time_point started);

 private:
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::uint64_t requests = 0;
    OpCounts ops{};
  };
  std::deque<Sample> samples_;
};

}  // namespace mpshare::server
