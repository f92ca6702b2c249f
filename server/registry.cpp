#include "registry.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <asio/posix/stream_descriptor.hpp>

#include "call.hpp"
#include "log.hpp"
#include "mpshare/detail/proxy_wire.hpp"

namespace mpshare::server {

using namespace mpshare::detail;

namespace {

// Owner keys: a process owner is its pid; a session owner has the top bit.
constexpr std::uint64_t session_owner_bit = std::uint64_t(1) << 63;

// Kinds whose objects keep nothing per session (no on_disconnect).
bool keeps_session_state(Kind k) {
  return k != Kind::dict && k != Kind::list && k != Kind::set;
}

// Containers: their stored keys and values may hold proxies.
bool stores_values(Kind k) {
  return k == Kind::dict || k == Kind::list || k == Kind::set || k == Kind::queue ||
         k == Kind::joinable_queue;
}

// Whether the process behind `watch` (a pidfd) has exited.
bool exited(const asio::posix::stream_descriptor& watch) {
  pollfd p{const_cast<asio::posix::stream_descriptor&>(watch).native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace

Registry::Registry(asio::io_context& io, ObjectLimits limits)
    : context_{io, *this, false, limits} {}

Registry::~Registry() {
  clear();
}

OpenReply Registry::open(const OpenRequest& req, SessionId s, std::int64_t pid) {
  if (!req.name.empty()) {
    if (req.name.front() == '@')
      fail(Errc::value_error, "names starting with '@' are reserved for anonymous objects");
    auto it = by_name_.find(req.name);
    if (it != by_name_.end()) {
      Object& o = *by_id_.at(it->second);
      if (o.kind() != req.kind || o.type() != req.type)
        fail(Errc::type_mismatch, "'" + req.name + "' is a " + std::string(kind_name(o.kind())) +
                                      " of " + o.type() + ", not a " +
                                      std::string(kind_name(req.kind)) + " of " + req.type);
      if (!o.accepts(req))
        fail(Errc::type_mismatch, "'" + req.name + "' exists with other parameters");
      return OpenReply{o.id(), false, o.open_params()};
    }
  }
  std::unique_ptr<Object> obj = make_object(context_, req);
  obj->id_ = next_id_++;
  obj->name_ = req.name.empty() ? "@" + std::to_string(obj->id_) : req.name;
  Object& o = *obj;
  by_name_.emplace(o.name_, o.id_);
  by_id_.emplace(o.id_, std::move(obj));
  if (req.name.empty()) {
    refs_.emplace(o.id_, 1);
    ++owner_of(s, pid).refs[o.id_];
  }
  // Initial contents may hold proxies; a Condition holds its bound lock.
  note_request(o, req.params);
  recount(o);
  if (req.kind == Kind::condition && !req.params.empty()) {
    const auto lock_id = decode<std::uint64_t>(req.params);
    if (auto r = refs_.find(lock_id); r != refs_.end()) {
      ++r->second;
      ++stored_[o.id_][lock_id];
    }
  }
  return OpenReply{o.id(), true, o.open_params()};
}

Object* Registry::find(std::uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

void Registry::remove(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) fail(Errc::key_error, "no object named '" + name + "'");
  free(it->second);
  collect();
}

std::vector<ObjectInfo> Registry::list() const {
  std::vector<ObjectInfo> out;
  out.reserve(by_id_.size());
  for (const auto& [id, o] : by_id_) out.push_back({o->name(), o->kind(), o->type(), o->size()});
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

void Registry::touch(SessionId s, const Object& o) {
  if (!keeps_session_state(o.kind())) return;
  SessionState& st = sessions_[s];
  if (st.last_used == o.id()) return;
  st.last_used = o.id();
  st.used.insert(o.id());
}

void Registry::on_disconnect(SessionId s) {
  auto node = sessions_.extract(s);
  if (node.empty()) return;
  SessionState& st = node.mapped();
  for (std::uint64_t id : st.used)
    if (Object* o = find(id)) {
      o->on_disconnect(s);
      recount(*o);  // parked puts dropped
    }
  if (st.owner != 0) {
    auto it = owners_.find(st.owner);
    if (it != owners_.end()) {
      Owner& ow = it->second;
      if (--ow.sessions == 0 && (!ow.exit_watch || ow.refs.empty())) {
        drop_all(ow);
        owners_.erase(it);
      }
    }
  }
  collect();
}

Registry::Owner& Registry::owner_of(SessionId s, std::int64_t pid) {
  SessionState& st = sessions_[s];
  if (st.owner != 0) return owners_[st.owner];
  const std::uint64_t key = pid > 0 ? static_cast<std::uint64_t>(pid) : session_owner_bit | s;
  auto [it, fresh] = owners_.try_emplace(key);
  Owner& ow = it->second;
  if (!fresh && ow.exit_watch &&
      exited(*std::static_pointer_cast<asio::posix::stream_descriptor>(ow.exit_watch))) {
    // The pid was reused before the old process's exit was handled.
    drop_all(ow);
    ow.exit_watch.reset();
  }
  if (pid > 0 && !ow.exit_watch) watch_exit(key, pid);
  ++ow.sessions;
  st.owner = key;
  return ow;
}

void Registry::watch_exit(std::uint64_t key, std::int64_t pid) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
  if (fd < 0) return;  // references then go with the process's last session
  auto watch = std::make_shared<asio::posix::stream_descriptor>(context_.io, fd);
  owners_.at(key).exit_watch = watch;
  await_exit(key, watch);
}

void Registry::await_exit(std::uint64_t key, const std::shared_ptr<void>& any) {
  auto watch = std::static_pointer_cast<asio::posix::stream_descriptor>(any);
  watch->async_wait(asio::posix::stream_descriptor::wait_read,
                    [this, key, w = std::weak_ptr<asio::posix::stream_descriptor>(watch)](
                        const std::error_code& ec) {
                      auto alive = w.lock();
                      if (ec || !alive) return;  // cancelled: the owner or registry is gone
                      // A descriptor number reused after an owner was
                      // dropped can be reported ready: ask the pidfd.
                      if (exited(*alive))
                        owner_exited(key);
                      else
                        await_exit(key, alive);
                    });
}

void Registry::owner_exited(std::uint64_t key) {
  auto it = owners_.find(key);
  if (it == owners_.end()) return;
  drop_all(it->second);
  if (it->second.sessions == 0)
    owners_.erase(it);
  else
    it->second.exit_watch.reset();  // its sessions are closing too
  collect();
}

void Registry::hand_out(SessionId s, std::int64_t pid, std::string_view bytes) noexcept {
  if (refs_.empty()) return;
  try {
    Owner* ow = nullptr;
    for_each_proxy_id(bytes, [&](std::uint64_t id) {
      auto r = refs_.find(id);
      if (r == refs_.end()) return;
      if (ow == nullptr) ow = &owner_of(s, pid);
      ++ow->refs[id];
      ++r->second;
    });
  } catch (const std::exception& e) {
    // The reply is out already; its proxies stay uncounted.
    log(LogLevel::error, std::string("counting the proxies of a reply: ") + e.what());
  }
}

void hand_out(Registry& registry, SessionId s, std::int64_t pid, std::string_view bytes) {
  registry.hand_out(s, pid, bytes);
}

void Registry::release(SessionId s, std::int64_t pid, std::uint64_t id, std::uint64_t count) {
  Owner& ow = owner_of(s, pid);
  auto it = ow.refs.find(id);
  if (it == ow.refs.end()) return;
  const std::uint64_t n = std::min(count, it->second);
  if ((it->second -= n) == 0) ow.refs.erase(it);
  drop(id, n);
}

void Registry::note_request(Object& o, std::string_view payload) {
  if (!o.may_store_proxies_ && stores_values(o.kind()) && !refs_.empty() &&
      has_proxy_marker(payload))
    o.may_store_proxies_ = true;
}

void Registry::recount(Object& o) {
  if (!o.may_store_proxies_) return;
  std::unordered_map<std::uint64_t, std::uint64_t> now;
  if (!refs_.empty())
    o.for_each_stored([&](std::string_view bytes) {
      for_each_proxy_id(bytes, [&](std::uint64_t id) {
        // A container naming itself does not keep itself alive.
        if (id != o.id() && refs_.contains(id)) ++now[id];
      });
    });
  for (const auto& [id, n] : now) refs_.at(id) += n;
  auto old = stored_.find(o.id());
  if (old != stored_.end()) {
    for (const auto& [id, n] : old->second) drop(id, n);
    stored_.erase(old);
  }
  if (!now.empty()) stored_.emplace(o.id(), std::move(now));
}

void Registry::drop(std::uint64_t id, std::uint64_t count) {
  auto r = refs_.find(id);
  if (r == refs_.end() || count == 0) return;
  r->second -= std::min(count, r->second);
  if (r->second == 0) unreferenced_.push_back(id);
}

void Registry::drop_all(Owner& owner) {
  for (const auto& [id, n] : owner.refs) drop(id, n);
  owner.refs.clear();
}

void Registry::collect() {
  while (!unreferenced_.empty()) {
    const std::uint64_t id = unreferenced_.back();
    unreferenced_.pop_back();
    auto r = refs_.find(id);
    if (r != refs_.end() && r->second == 0) free(id);
  }
}

void Registry::free(std::uint64_t id) {
  auto node = by_id_.extract(id);
  if (node.empty()) return;
  by_name_.erase(node.mapped()->name());
  refs_.erase(id);
  if (auto held = stored_.extract(id); !held.empty())
    for (const auto& [other, n] : held.mapped()) drop(other, n);
  node.mapped()->on_remove();
}

void Registry::shutdown() {
  context_.stopping = true;
  clear();
}

void Registry::clear() {
  auto objects = std::move(by_id_);
  by_id_.clear();
  by_name_.clear();
  refs_.clear();
  stored_.clear();
  unreferenced_.clear();
  owners_.clear();
  for (auto& [id, o] : objects) o->on_remove();
}

}  // namespace mpshare::server
