// The objects of one server, by id and by name. Anonymous objects are named
// "@<id>". Used only on the server's event-loop thread. Not copyable.
//
// Anonymous objects are reference counted (docs/ARCHITECTURE.md,
// "Anonymous objects"), and freed once no reference is left:
// - an owner holds references: the client process (Unix sockets: the peer's
//   pid, watched with a pidfd, so the references outlive any one of its
//   connections and go when it exits), else the session itself;
// - the owner gets one reference when one of its sessions creates the
//   object, and one for every proxy of it in a reply sent to one of its
//   sessions; the Release op gives them back;
// - a container holds one reference per proxy among its stored keys and
//   values (found by their marker, proxy_wire.hpp), recounted after every
//   request that may have changed them;
// - objects whose count reaches zero are freed by collect(), which the
//   dispatcher runs after a request's replies are counted: a value handed
//   out (get, pop, queue get) is never freed in between.
// Each session's per-object state is found through the session: disconnect
// visits only the objects the session used, not every object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "object.hpp"

namespace mpshare::server {

class Registry {
 public:
  // `io` runs the objects' timers and must outlive the registry.
  explicit Registry(asio::io_context& io, ObjectLimits limits = {});
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Create-or-open; throws TypeMismatch when `req` does not match. A new
  // anonymous object starts with one reference, held by the owner of
  // session `s` of process `pid` (0: unknown).
  detail::OpenReply open(const OpenRequest& req, SessionId s = 0, std::int64_t pid = 0);
  Object* find(std::uint64_t id) const;
  void remove(const std::string& name);  // KeyError if unknown
  std::vector<ObjectInfo> list() const;
  std::size_t size() const { return by_id_.size(); }
  // Calls f(const Object&) for every object, in no order.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [id, o] : by_id_) f(*o);
  }
  // Calls f(const Object&) for every object session `s` used that keeps
  // per-session state (what on_disconnect(s) visits), in no order.
  template <class F>
  void for_each_used(SessionId s, F&& f) const {
    auto it = sessions_.find(s);
    if (it == sessions_.end()) return;
    for (std::uint64_t id : it->second.used)
      if (const Object* o = find(id)) f(*o);
  }
  // Releases what the session held and its owner's references (a session
  // owner; a process owner when it has no other session and cannot be
  // watched). Visits only the objects the session used.
  void on_disconnect(SessionId s);
  // Removes every object; their parked waits fail with ConnectionLost.
  void shutdown();

  // Session `s` runs a request on `o`: remembered for on_disconnect when
  // `o` keeps per-session state (every kind but Dict, List and Set).
  void touch(SessionId s, const Object& o);
  // `bytes` go to session `s` of process `pid`: its owner takes one
  // reference per anonymous object they name. Never throws (the reply is
  // written already).
  void hand_out(SessionId s, std::int64_t pid, std::string_view bytes) noexcept;
  // The owner of session `s` gives back up to `count` references to `id`.
  void release(SessionId s, std::int64_t pid, std::uint64_t id, std::uint64_t count);
  // A request to container `o` carries `payload`: when it names a proxy, the
  // container's stored proxies are counted from now on.
  void note_request(Object& o, std::string_view payload);
  // Recounts the references container `o` holds, if it may hold any.
  void recount(Object& o);
  // Frees the anonymous objects left without references.
  void collect();

 private:
  // A holder of references: a client process or a session.
  struct Owner {
    std::unordered_map<std::uint64_t, std::uint64_t> refs;  // anonymous id -> references
    std::size_t sessions = 0;                               // open sessions it owns
    std::shared_ptr<void> exit_watch;                       // process owners: its pidfd wait
  };
  struct SessionState {
    std::uint64_t owner = 0;                 // key in owners_, 0 until needed
    std::unordered_set<std::uint64_t> used;  // objects with per-session state it used
    std::uint64_t last_used = 0;
  };
  void clear();
  Owner& owner_of(SessionId s, std::int64_t pid);
  void watch_exit(std::uint64_t key, std::int64_t pid);
  void await_exit(std::uint64_t key, const std::shared_ptr<void>& watch);
  void owner_exited(std::uint64_t key);
  void drop(std::uint64_t id, std::uint64_t count);
  void drop_all(Owner& owner);
  void free(std::uint64_t id);

  ObjectContext context_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Object>> by_id_;
  std::unordered_map<std::string, std::uint64_t> by_name_;
  // Anonymous object id -> references; holds exactly the live anonymous objects.
  std::unordered_map<std::uint64_t, std::uint64_t> refs_;
  // Container id -> (anonymous id -> references its stored values hold).
  std::unordered_map<std::uint64_t, std::unordered_map<std::uint64_t, std::uint64_t>> stored_;
  std::vector<std::uint64_t> unreferenced_;  // maybe at zero, for collect()
  std::unordered_map<std::uint64_t, Owner> owners_;
  std::unordered_map<SessionId, SessionState> sessions_;
};

}  // namespace mpshare::server
