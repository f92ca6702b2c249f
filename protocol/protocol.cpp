#include "mpshare/detail/protocol.hpp"

namespace mpshare {

namespace {

class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "mpshare"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok:
        return "success";
      case Errc::key_error:
        return "key not found";
      case Errc::index_error:
        return "index out of range";
      case Errc::type_mismatch:
        return "type mismatch";
      case Errc::auth_error:
        return "authentication failed";
      case Errc::connection_lost:
        return "connection lost";
      case Errc::timeout:
        return "timed out";
      case Errc::broken_barrier:
        return "broken barrier";
      case Errc::protocol_error:
        return "protocol error";
      case Errc::remote_error:
        return "remote error";
      case Errc::value_error:
        return "invalid value";
      case Errc::state_error:
        return "invalid state";
      case Errc::no_such_object:
        return "no such object";
    }
    return "unknown mpshare error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

void throw_error(Errc code, const std::string& what) {
  switch (code) {
    case Errc::key_error:
      throw KeyError(what);
    case Errc::index_error:
      throw IndexError(what);
    case Errc::type_mismatch:
      throw TypeMismatch(what);
    case Errc::auth_error:
      throw AuthError(what);
    case Errc::connection_lost:
      throw ConnectionLost(what);
    case Errc::timeout:
      throw Timeout(what);
    case Errc::broken_barrier:
      throw BrokenBarrier(what);
    case Errc::protocol_error:
      throw ProtocolError(what);
    case Errc::value_error:
      throw ValueError(what);
    case Errc::state_error:
      throw StateError(what);
    case Errc::no_such_object:
      throw NoSuchObject(what);
    case Errc::ok:
    case Errc::remote_error:
      break;
  }
  throw RemoteError(what);
}

std::string_view kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::none:
      return "none";
    case Kind::dict:
      return "dict";
    case Kind::list:
      return "list";
    case Kind::queue:
      return "queue";
    case Kind::joinable_queue:
      return "joinable_queue";
    case Kind::lock:
      return "lock";
    case Kind::rlock:
      return "rlock";
    case Kind::condition:
      return "condition";
    case Kind::semaphore:
      return "semaphore";
    case Kind::bounded_semaphore:
      return "bounded_semaphore";
    case Kind::event:
      return "event";
    case Kind::barrier:
      return "barrier";
    case Kind::value:
      return "value";
    case Kind::array:
      return "array";
  }
  return "unknown";
}

namespace detail {

void throw_reply_error(std::uint16_t status, std::string_view payload) {
  std::string message;
  try {
    decode_into(payload, message);
  } catch (const Error&) {
    message = "(undecodable error message)";
  }
  throw_error(static_cast<Errc>(status), message);
}

const char* op_name(std::uint16_t code) noexcept {
  switch (code) {
#define MPSHARE_OP(Name, code_, ...) \
  case code_:                        \
    return #Name;
#include "mpshare/detail/ops.def"
#undef MPSHARE_OP
  }
  return nullptr;
}

}  // namespace detail
}  // namespace mpshare
