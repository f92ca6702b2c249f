// Error types and codes. Every failure a proxy call can raise derives from
// mpshare::Error and carries a std::error_code in mpshare::error_category().
// Expected outcomes (a timed-out wait, an empty try_get) are return values.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace mpshare {

// Wire status codes (docs/PROTOCOL.md). 0 is success. Values are fixed.
enum class Errc : std::uint16_t {
  ok = 0,
  key_error = 1,        // missing key
  index_error = 2,      // index out of range
  type_mismatch = 3,    // object opened with another kind or type
  auth_error = 4,       // handshake failed
  connection_lost = 5,  // peer closed or died
  timeout = 6,          // call deadline passed
  broken_barrier = 7,   // barrier aborted, reset or a party died
  protocol_error = 8,   // malformed frame, unknown op, oversize length
  remote_error = 9,     // the server failed in an unexpected way
  value_error = 10,     // bad argument value (negative timeout, over-release, ...)
  state_error = 11,     // operation not valid in the object's state (release unowned lock)
  no_such_object = 12,  // object id or name unknown (removed)
  eof_error = 13,       // the peer is closed and everything it sent was read
  task_error = 14,      // a Pool task threw
  worker_lost = 15,     // a Pool task's workers died max_attempts times
  task_timeout = 16,    // a Pool task ran longer than its task_timeout
  shut_down = 17,       // the queue was shut down (Python 3.13's queue.ShutDown)
  permission_denied = 18,  // the caller may not do this (stop a server it did not spawn)
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

// Base of all mpshare exceptions. Thread-safe to copy like std::system_error.
class Error : public std::system_error {
 public:
  Error(Errc code, const std::string& what) : std::system_error(make_error_code(code), what) {}
  Errc errc() const noexcept { return static_cast<Errc>(code().value()); }
};

#define MPSHARE_DEFINE_ERROR(Name, code)                                \
  class Name : public Error {                                           \
   public:                                                              \
    explicit Name(const std::string& what) : Error(Errc::code, what) {} \
  };

MPSHARE_DEFINE_ERROR(KeyError, key_error)
MPSHARE_DEFINE_ERROR(IndexError, index_error)
MPSHARE_DEFINE_ERROR(TypeMismatch, type_mismatch)
MPSHARE_DEFINE_ERROR(AuthError, auth_error)
MPSHARE_DEFINE_ERROR(ConnectionLost, connection_lost)
MPSHARE_DEFINE_ERROR(Timeout, timeout)
MPSHARE_DEFINE_ERROR(BrokenBarrier, broken_barrier)
MPSHARE_DEFINE_ERROR(ProtocolError, protocol_error)
MPSHARE_DEFINE_ERROR(RemoteError, remote_error)
MPSHARE_DEFINE_ERROR(ValueError, value_error)
MPSHARE_DEFINE_ERROR(StateError, state_error)
MPSHARE_DEFINE_ERROR(NoSuchObject, no_such_object)
MPSHARE_DEFINE_ERROR(EOFError, eof_error)
MPSHARE_DEFINE_ERROR(ShutDown, shut_down)
MPSHARE_DEFINE_ERROR(PermissionError, permission_denied)

MPSHARE_DEFINE_ERROR(WorkerLost, worker_lost)
MPSHARE_DEFINE_ERROR(TaskTimeout, task_timeout)

#undef MPSHARE_DEFINE_ERROR

// A Pool task threw: what() is "<type>: <message>"; type_name() and
// message() give the parts (empty type when not known).
class TaskError : public Error {
 public:
  explicit TaskError(const std::string& what) : Error(Errc::task_error, what), message_(what) {}
  TaskError(std::string type, std::string message)
      : Error(Errc::task_error, type.empty() ? message : type + ": " + message),
        type_(std::move(type)),
        message_(std::move(message)) {}
  const std::string& type_name() const noexcept { return type_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string type_;
  std::string message_;
};

// Throws the exception type that matches `code` (never returns).
[[noreturn]] void throw_error(Errc code, const std::string& what);

}  // namespace mpshare

template <>
struct std::is_error_code_enum<mpshare::Errc> : std::true_type {};
