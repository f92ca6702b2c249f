// One request being handled, and a parked request to be answered later.
// Used only on the server's event-loop thread.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "counters.hpp"
#include "object.hpp"
#include "protocol/frame.hpp"

namespace mpshare::server {

class Dispatcher;
class Registry;

// A connection as the handlers see it. Owned by shared_ptr: parked requests
// keep their session alive until answered or dropped.
class SessionBase {
 public:
  explicit SessionBase(SessionId id) : id_(id) {}
  virtual ~SessionBase() = default;
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  SessionId id() const { return id_; }
  // The peer's process id (Unix sockets), else 0.
  std::int64_t peer_pid() const { return peer_.pid; }
  const PeerInfo& peer() const { return peer_; }
  // "session N (peer)", to begin log lines.
  std::string tag() const {
    return "session " + std::to_string(id_) + " (" + describe(peer_) + ")";
  }
  SessionStats& stats() { return stats_; }
  const SessionStats& stats() const { return stats_; }
  bool closed() const { return closed_; }
  // Replies are appended here, then flush() starts writing them.
  virtual std::string& out() = 0;
  virtual void flush() = 0;
  // Writes what is queued, then closes.
  virtual void stop() = 0;
  // The next reply frame appended to out() carries a duplicate of `fd`
  // (SCM_RIGHTS) in order with every other byte; the caller keeps `fd`.
  // False when this transport cannot carry descriptors (TCP, TLS).
  virtual bool attach_fd(int /*fd*/) { return false; }

 protected:
  bool closed_ = false;
  PeerInfo peer_;
  SessionStats stats_;

 private:
  SessionId id_;
};

// Registry::hand_out, for replies sent later.
void hand_out(Registry& registry, SessionId s, std::int64_t pid, std::string_view bytes);

// A parked request of any op: who asked, and how to fail it. Answer it
// exactly once; an answer to a closed session is dropped. Copyable (copies
// answer the same request).
class PendingCall {
 public:
  // `registry` (if any) counts the proxies the reply hands out; `op` names
  // the parked op (introspection).
  PendingCall(std::shared_ptr<SessionBase> session, std::uint64_t request, std::uint64_t object,
              Registry* registry = nullptr, const char* op = "")
      : session_(std::move(session)),
        request_(request),
        object_(object),
        registry_(registry),
        op_(op) {}

  SessionId session_id() const { return session_->id(); }
  // The op parked, and since when (introspection).
  const char* op() const { return op_; }
  std::chrono::steady_clock::time_point since() const { return since_; }
  std::int64_t peer_pid() const { return session_->peer_pid(); }
  bool session_closed() const { return session_->closed(); }
  void fail(Errc code, const std::string& message) { reply(code, message); }

 protected:
  template <class... A>
  void reply(Errc status, const A&... payload) {
    if (session_->closed()) return;
    std::string& out = session_->out();
    const std::size_t at = out.size();
    detail::append_frame(out, static_cast<std::uint16_t>(status), detail::FrameHeader::reply_flag,
                         request_, object_, payload...);
    if (registry_ != nullptr)
      hand_out(*registry_, session_->id(), peer_pid(), std::string_view(out).substr(at));
    session_->flush();
  }

 private:
  std::shared_ptr<SessionBase> session_;
  std::uint64_t request_;
  std::uint64_t object_;
  Registry* registry_;
  const char* op_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
};

// A parked request of op `Op`: answer it with complete() or fail().
template <class Op>
class Pending : public PendingCall {
 public:
  Pending(std::shared_ptr<SessionBase> session, std::uint64_t request, std::uint64_t object,
          Registry* registry = nullptr)
      : PendingCall(std::move(session), request, object, registry, Op::name) {}
  void complete(const typename Op::Result& result) { reply(Errc::ok, result); }
};

// The request a handler is answering. A handler returns its result, or
// std::nullopt after park() to answer later through the Pending.
class Call {
 public:
  // `dispatcher` and `session` must outlive the Call (it lives for one
  // dispatch).
  Call(Dispatcher& dispatcher, const std::shared_ptr<SessionBase>& session,
       const detail::FrameHeader& header, Object* object)
      : dispatcher_(dispatcher), session_(session), header_(header), object_(object) {}

  // The server's objects, and a way to stop it (manager ops).
  Registry& registry() const;
  void request_stop() const;
  Dispatcher& dispatcher() const { return dispatcher_; }
  const SessionBase& session() const { return *session_; }

  SessionId session_id() const { return session_->id(); }
  std::int64_t peer_pid() const { return session_->peer_pid(); }
  const detail::FrameHeader& header() const { return header_; }
  Object& object() const { return *object_; }
  // The object as its concrete kind; the dispatcher checked the kind.
  template <class T>
  T& as() const {
    return static_cast<T&>(*object_);
  }
  // See SessionBase::attach_fd.
  bool attach_fd(int fd) const { return session_->attach_fd(fd); }
  template <class Op>
  Pending<Op> park() const {
    return Pending<Op>(session_, header_.request, header_.object, &registry());
  }

 private:
  Dispatcher& dispatcher_;
  const std::shared_ptr<SessionBase>& session_;
  detail::FrameHeader header_;
  Object* object_;
};

// Thrown by handlers for an error reply.
class HandlerError : public std::runtime_error {
 public:
  HandlerError(Errc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  Errc code() const { return code_; }

 private:
  Errc code_;
};

[[noreturn]] inline void fail(Errc code, const std::string& what) {
  throw HandlerError(code, what);
}

}  // namespace mpshare::server
