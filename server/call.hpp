// One request being handled, and a parked request to be answered later.
// Used only on the server's event-loop thread.
#pragma once

#include <memory>
#include <string>

#include "object.hpp"

namespace mpshare::server {

class Server;

// A connection as the handlers see it. Owned by shared_ptr: parked requests
// keep their session alive until answered or dropped.
class SessionBase {
 public:
  explicit SessionBase(SessionId id) : id_(id) {}
  virtual ~SessionBase() = default;
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  SessionId id() const { return id_; }
  bool closed() const { return closed_; }
  // Replies are appended here, then flush() starts writing them.
  std::string& out() { return out_; }
  virtual void flush() = 0;
  // Writes what is queued, then closes.
  virtual void stop() = 0;
  // The next reply frame appended to out() carries a duplicate of `fd`
  // (SCM_RIGHTS) in order with every other byte; the caller keeps `fd`.
  // False when this transport cannot carry descriptors (TCP).
  virtual bool attach_fd(int /*fd*/) { return false; }

 protected:
  std::string out_;
  bool closed_ = false;

 private:
  SessionId id_;
};

// A parked request: answer it exactly once with complete() or fail(). An
// answer to a closed session is dropped.
template <class Op>
class Pending {
 public:
  Pending(std::shared_ptr<SessionBase> session, std::uint64_t request, std::uint64_t object)
      : session_(std::move(session)), request_(request), object_(object) {}

  SessionId session_id() const { return session_->id(); }
  bool session_closed() const { return session_->closed(); }

  void complete(const typename Op::Result& result) {
    if (session_->closed()) return;
    detail::append_frame(session_->out(), 0, detail::FrameHeader::reply_flag, request_, object_,
                         result);
    session_->flush();
  }
  void fail(Errc code, const std::string& message) {
    if (session_->closed()) return;
    detail::append_frame(session_->out(), static_cast<std::uint16_t>(code),
                         detail::FrameHeader::reply_flag, request_, object_, message);
    session_->flush();
  }

 private:
  std::shared_ptr<SessionBase> session_;
  std::uint64_t request_;
  std::uint64_t object_;
};

// The request a handler is answering. A handler returns its result, or
// std::nullopt after park() to answer later through the Pending.
class Call {
 public:
  // `session` must outlive the Call (it lives for one dispatch).
  Call(Server& server, const std::shared_ptr<SessionBase>& session,
       const detail::FrameHeader& header, Object* object)
      : server_(server), session_(session), header_(header), object_(object) {}

  Server& server() const { return server_; }
  SessionId session_id() const { return session_->id(); }
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
    return Pending<Op>(session_, header_.request, header_.object);
  }

 private:
  Server& server_;
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
