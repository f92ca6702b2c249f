#include "introspect.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "dispatch.hpp"
#include "registry.hpp"
#include "server.hpp"

#ifndef MPSHARE_VERSION
#define MPSHARE_VERSION "unknown"
#endif

namespace mpshare::server {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t, Clock::time_point now) {
  return std::chrono::duration<double>(now - t).count();
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

const char* op_name_at(std::size_t index) {
  return detail::op_name(op_codes[index]);
}

}  // namespace

std::string describe(const PeerInfo& peer) {
  if (peer.pid != 0 || peer.uid >= 0)
    return std::string(peer.transport) + " pid " + std::to_string(peer.pid) + " uid " +
           std::to_string(peer.uid);
  if (!peer.address.empty()) return std::string(peer.transport) + " " + peer.address;
  return peer.transport[0] != 0 ? std::string(peer.transport) : std::string("?");
}

RateSamples::Rates RateSamples::update(const ServerCounters& c, Clock::time_point started) {
  const auto now = Clock::now();
  while (samples_.size() > 1 && now - samples_[1].at >= std::chrono::seconds(10))
    samples_.pop_front();
  Rates r;
  r.ops.resize(op_count);
  const Sample* base = samples_.empty() ? nullptr : &samples_.front();
  const double span = base ? seconds_since(base->at, now) : 0;
  if (base && span >= 0.5) {
    r.requests = static_cast<double>(c.requests - base->requests) / span;
    for (std::size_t i = 0; i < op_count; ++i)
      r.ops[i] = static_cast<double>(c.ops[i] - base->ops[i]) / span;
  } else {
    const double up = std::max(seconds_since(started, now), 1e-3);
    r.requests = static_cast<double>(c.requests) / up;
    for (std::size_t i = 0; i < op_count; ++i) r.ops[i] = static_cast<double>(c.ops[i]) / up;
  }
  if (samples_.empty() || now - samples_.back().at >= std::chrono::seconds(1))
    samples_.push_back(Sample{now, c.requests, c.ops});
  return r;
}

ServerInfo collect_info(const Server& server) {
  const ServerCounters& c = server.dispatcher().counters();
  const RateSamples::Rates rates = server.rate_samples().update(c, server.started());
  ServerInfo info;
  info.version = MPSHARE_VERSION;
  info.pid = ::getpid();
  info.started_at_ms = unix_ms(server.started_at());
  info.uptime_s = seconds_since(server.started(), Clock::now());
  info.addresses = server.addresses();
  info.sessions = server.sessions().size();
  info.sessions_total = server.sessions().accepted();
  info.objects = server.registry().size();
  info.memory_rss_bytes = resident_bytes();
  info.requests = c.requests;
  info.request_rate = rates.requests;
  info.bytes_in = c.bytes_in;
  info.bytes_out = c.bytes_out;
  info.auth_failures = c.auth_failures;
  info.allow_shutdown = server.options().allow_shutdown;
  for (std::size_t i = 0; i < op_count; ++i)
    if (c.ops[i] != 0)
      info.ops.push_back(OpStats{op_name_at(i), c.ops[i], c.errors[i], rates.ops[i]});
  std::sort(info.ops.begin(), info.ops.end(), [](auto& a, auto& b) { return a.op < b.op; });
  return info;
}

namespace {

ObjectDetail detail_of(const Object& o, Clock::time_point now) {
  ObjectDetail d;
  d.id = o.id();
  d.name = o.name();
  d.kind = std::string(kind_name(o.kind()));
  d.type = o.type();
  d.size = o.size();
  o.describe(d, now);
  return d;
}

}  // namespace

std::vector<ObjectDetail> collect_objects(const Registry& registry) {
  const auto now = Clock::now();
  std::vector<ObjectDetail> out;
  registry.for_each([&](const Object& o) { out.push_back(detail_of(o, now)); });
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

std::vector<ClientInfo> collect_clients(const Server& server, SessionId caller) {
  const auto now = Clock::now();
  std::map<SessionId, ClientInfo> by_id;
  server.sessions().for_each([&](const SessionBase& s) {
    ClientInfo& c = by_id[s.id()];
    const SessionStats& st = s.stats();
    c.session = s.id();
    c.transport = s.peer().transport;
    c.peer = describe(s.peer());
    c.pid = s.peer().pid;
    c.uid = s.peer().uid;
    c.connected_at_ms = unix_ms(st.connected_at);
    c.connected_s = seconds_since(st.connected, now);
    c.authenticated = st.authenticated;
    c.is_caller = s.id() == caller;
    c.requests = st.requests;
    c.bytes_in = st.bytes_in;
    c.bytes_out = st.bytes_out;
    for (std::size_t i = 0; i < op_count; ++i)
      if (st.ops[i] != 0) c.ops.push_back(OpCount{op_name_at(i), st.ops[i]});
    std::sort(c.ops.begin(), c.ops.end(), [](auto& a, auto& b) { return a.op < b.op; });
  });
  for (const ObjectDetail& d : collect_objects(server.registry())) {
    for (const Holding& h : d.holders) {
      auto it = by_id.find(h.session);
      if (it != by_id.end())
        it->second.holds.push_back(ClientObject{d.name, d.kind, h.what, h.count, h.token, 0});
    }
    for (const Waiting& w : d.waiters) {
      auto it = by_id.find(w.session);
      if (it != by_id.end())
        it->second.waits.push_back(ClientObject{d.name, d.kind, w.op, 0, 0, w.waiting_s});
    }
  }
  std::vector<ClientInfo> out;
  out.reserve(by_id.size());
  for (auto& [id, c] : by_id) out.push_back(std::move(c));
  return out;
}

std::string holdings_of(const Registry& registry, SessionId session) {
  const auto now = Clock::now();
  std::string out;
  registry.for_each_used(session, [&](const Object& o) {
    const ObjectDetail d = detail_of(o, now);
    for (const Holding& h : d.holders) {
      if (h.session != session) continue;
      if (!out.empty()) out += ", ";
      if (h.what == "lock")
        out += d.kind + " '" + d.name + "' (token " + std::to_string(h.token) + ")";
      else
        out += std::to_string(h.count) + " " + h.what + " of " + d.kind + " '" + d.name + "'";
    }
  });
  return out;
}

bool may_stop(const Server& server, const SessionBase& session) {
  const ServerOptions& o = server.options();
  return o.allow_shutdown || (o.owner_pid > 0 && session.peer().pid == o.owner_pid);
}

}  // namespace mpshare::server
