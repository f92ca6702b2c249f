// What a live server says about itself: Manager::info(), clients() and
// objects_detail() (ops Info, Clients, ObjectsDetail), shown by mpshare-cli
// and the server's web page. Snapshots: plain copyable values taken on the
// server's event-loop thread in one step, so each is consistent in itself.
//
// to_json gives the one JSON form of each snapshot (field names as below;
// mpshare-cli --json and the web page's /api both use it). Thread-safe.
#pragma once

#include <cereal/cereal.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mpshare {

namespace detail {
// A map of numbers by name: in JSON an object {"name": number, ...}, in
// the binary wire format Cereal's map.
template <class Ar>
void named_numbers(Ar& ar, const char* name, std::map<std::string, std::int64_t>& m) {
  if constexpr (requires { ar.getNodeName(); }) {  // JSON in
    ar.setNextName(name);
    ar.startNode();
    m.clear();
    while (const char* key = ar.getNodeName()) {
      std::int64_t v = 0;
      ar(v);
      m.emplace(key, v);
    }
    ar.finishNode();
  } else if constexpr (requires { ar.startNode(); }) {  // JSON out
    ar.setNextName(name);
    ar.startNode();
    for (auto& [k, v] : m) ar(cereal::make_nvp(k.c_str(), v));
    ar.finishNode();
  } else {
    ar(m);
  }
}
}  // namespace detail

// Requests of one op since the server started.
struct OpStats {
  std::string op;            // its name in the op table, e.g. "QueueGet"
  std::uint64_t count = 0;   // requests handled
  std::uint64_t errors = 0;  // of which answered with an error
  double rate = 0;           // requests per second over the last few seconds

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("op", op), cereal::make_nvp("count", count),
       cereal::make_nvp("errors", errors), cereal::make_nvp("rate", rate));
  }
  bool operator==(const OpStats&) const = default;
};

// Manager::info().
struct ServerInfo {
  std::string version;             // of the mpshare-server program
  std::int64_t pid = 0;            // of the server process
  std::int64_t started_at_ms = 0;  // Unix time, milliseconds
  double uptime_s = 0;
  std::vector<std::string> addresses;  // every bound address
  std::uint64_t sessions = 0;          // connections open now
  std::uint64_t sessions_total = 0;    // accepted since the start
  std::uint64_t objects = 0;
  std::uint64_t memory_rss_bytes = 0;  // the server process's resident set
  std::uint64_t requests = 0;          // every op, since the start
  double request_rate = 0;             // requests per second, recent
  std::uint64_t bytes_in = 0;          // read from clients, since the start
  std::uint64_t bytes_out = 0;         // written to clients
  std::uint64_t auth_failures = 0;     // handshakes refused
  bool allow_shutdown = false;         // any client may stop the server
  std::vector<OpStats> ops;            // ops requested at least once, by name

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("version", version), cereal::make_nvp("pid", pid),
       cereal::make_nvp("started_at_ms", started_at_ms), cereal::make_nvp("uptime_s", uptime_s),
       cereal::make_nvp("addresses", addresses), cereal::make_nvp("sessions", sessions),
       cereal::make_nvp("sessions_total", sessions_total), cereal::make_nvp("objects", objects),
       cereal::make_nvp("memory_rss_bytes", memory_rss_bytes),
       cereal::make_nvp("requests", requests), cereal::make_nvp("request_rate", request_rate),
       cereal::make_nvp("bytes_in", bytes_in), cereal::make_nvp("bytes_out", bytes_out),
       cereal::make_nvp("auth_failures", auth_failures),
       cereal::make_nvp("allow_shutdown", allow_shutdown), cereal::make_nvp("ops", ops));
  }
  bool operator==(const ServerInfo&) const = default;
};

// Something a session holds. `what`: "lock" (a Lock, RLock or Condition's
// lock: count = recursion levels, token = its fencing token), "permits" (a
// session-aware semaphore: count), "shared_lock" (a Value/Array's lock),
// "tasks" (Pool tasks leased to a worker: count).
struct Holding {
  std::uint64_t session = 0;
  std::int64_t pid = 0;  // the holder's pid when known (Unix sockets), else 0
  std::string what;
  std::uint64_t count = 0;
  std::uint64_t token = 0;  // fencing token of a lock, else 0

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("session", session), cereal::make_nvp("pid", pid),
       cereal::make_nvp("what", what), cereal::make_nvp("count", count),
       cereal::make_nvp("token", token));
  }
  bool operator==(const Holding&) const = default;
};

// A parked request: who waits, in which op, for how long so far.
struct Waiting {
  std::uint64_t session = 0;
  std::string op;  // e.g. "LockAcquire", "QueueGet"
  double waiting_s = 0;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("session", session), cereal::make_nvp("op", op),
       cereal::make_nvp("waiting_s", waiting_s));
  }
  bool operator==(const Waiting&) const = default;
};

// One object in detail (Manager::objects_detail()). `state` holds the
// kind's numbers, each present only for its kinds:
//   queue, joinable_queue: depth, maxsize, unfinished, shut_down
//   lock, rlock, condition: locked, token (the last fencing token given),
//                           owner_died; condition: notify_waiters
//   semaphore, bounded_semaphore: value, initial, session_aware
//   barrier: parties, arrivals, broken
//   event: set
//   dict, list, set: items
//   value, array: count, elem_size
//   task_pool: queued, leased, workers, submitters, closed
struct ObjectDetail {
  std::uint64_t id = 0;
  std::string name;
  std::string kind;        // kind_name(), e.g. "queue"
  std::string type;        // type signature
  std::uint64_t size = 0;  // as ObjectInfo::size
  std::vector<Holding> holders;
  std::vector<Waiting> waiters;  // oldest first within each op
  std::map<std::string, std::int64_t> state;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("id", id), cereal::make_nvp("name", name), cereal::make_nvp("kind", kind),
       cereal::make_nvp("type", type), cereal::make_nvp("size", size),
       cereal::make_nvp("holders", holders), cereal::make_nvp("waiters", waiters));
    detail::named_numbers(ar, "state", state);
  }
  bool operator==(const ObjectDetail&) const = default;
};

// What one session holds or waits on, by object.
struct ClientObject {
  std::string object;  // its name
  std::string kind;
  std::string what;         // as Holding::what, or the op waited in
  std::uint64_t count = 0;  // holding only
  std::uint64_t token = 0;  // a lock's fencing token
  double waiting_s = 0;     // waiting only

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("object", object), cereal::make_nvp("kind", kind),
       cereal::make_nvp("what", what), cereal::make_nvp("count", count),
       cereal::make_nvp("token", token), cereal::make_nvp("waiting_s", waiting_s));
  }
  bool operator==(const ClientObject&) const = default;
};

// Requests of one op by one session.
struct OpCount {
  std::string op;
  std::uint64_t count = 0;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("op", op), cereal::make_nvp("count", count));
  }
  bool operator==(const OpCount&) const = default;
};

// One connection (Manager::clients()). The peer: for Unix sockets the
// process and user ids (SO_PEERCRED), for TCP and TLS the address.
struct ClientInfo {
  std::uint64_t session = 0;
  std::string transport;             // "unix", "tcp" or "tls"
  std::string peer;                  // "pid 1234 uid 1000" or "127.0.0.1:40312"
  std::int64_t pid = 0;              // Unix sockets, else 0
  std::int64_t uid = -1;             // Unix sockets, else -1
  std::int64_t connected_at_ms = 0;  // Unix time, milliseconds
  double connected_s = 0;
  bool authenticated = false;
  bool is_caller = false;  // the session that asked for this list
  std::uint64_t requests = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::vector<OpCount> ops;  // by name
  std::vector<ClientObject> holds;
  std::vector<ClientObject> waits;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("session", session), cereal::make_nvp("transport", transport),
       cereal::make_nvp("peer", peer), cereal::make_nvp("pid", pid), cereal::make_nvp("uid", uid),
       cereal::make_nvp("connected_at_ms", connected_at_ms),
       cereal::make_nvp("connected_s", connected_s),
       cereal::make_nvp("authenticated", authenticated), cereal::make_nvp("is_caller", is_caller),
       cereal::make_nvp("requests", requests), cereal::make_nvp("bytes_in", bytes_in),
       cereal::make_nvp("bytes_out", bytes_out), cereal::make_nvp("ops", ops),
       cereal::make_nvp("holds", holds), cereal::make_nvp("waits", waits));
  }
  bool operator==(const ClientInfo&) const = default;
};

// The JSON of each snapshot: one object, or an array of them. `indent`
// false gives one line.
std::string to_json(const ServerInfo& info, bool indent = true);
std::string to_json(const std::vector<ClientInfo>& clients, bool indent = true);
std::string to_json(const std::vector<ObjectDetail>& objects, bool indent = true);
// The reverse (tests, scripts); throws mpshare::ValueError on bad JSON.
ServerInfo server_info_from_json(const std::string& json);
std::vector<ClientInfo> clients_from_json(const std::string& json);
std::vector<ObjectDetail> objects_from_json(const std::string& json);

namespace detail {
using ClientInfos = std::vector<ClientInfo>;
using ObjectDetails = std::vector<ObjectDetail>;
}  // namespace detail

}  // namespace mpshare
