#include "mpshare/detail/protocol.hpp"

#include <iterator>

namespace mpshare {

namespace {

// Indexed by Errc: its message, and how a reply with it is thrown.
template <class E>
[[noreturn]] void raise(const std::string& what) {
  throw E(what);
}
struct ErrcInfo {
  const char* message;
  void (*raise)(const std::string&);
};
constexpr ErrcInfo errc_info[] = {
    {"success", &raise<RemoteError>},
    {"key not found", &raise<KeyError>},
    {"index out of range", &raise<IndexError>},
    {"type mismatch", &raise<TypeMismatch>},
    {"authentication failed", &raise<AuthError>},
    {"connection lost", &raise<ConnectionLost>},
    {"timed out", &raise<Timeout>},
    {"broken barrier", &raise<BrokenBarrier>},
    {"protocol error", &raise<ProtocolError>},
    {"remote error", &raise<RemoteError>},
    {"invalid value", &raise<ValueError>},
    {"invalid state", &raise<StateError>},
    {"no such object", &raise<NoSuchObject>},
    {"end of file", &raise<EOFError>},
    {"task failed", &raise<TaskError>},
    {"worker lost", &raise<WorkerLost>},
    {"task timed out", &raise<TaskTimeout>},
    {"shut down", &raise<ShutDown>},
    {"permission denied", &raise<PermissionError>},
};
static_assert(std::size(errc_info) == static_cast<std::size_t>(Errc::permission_denied) + 1);

class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "mpshare"; }
  std::string message(int ev) const override {
    if (ev >= 0 && static_cast<std::size_t>(ev) < std::size(errc_info))
      return errc_info[ev].message;
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
  const auto i = static_cast<std::size_t>(code);
  if (i < std::size(errc_info)) errc_info[i].raise(what);
  throw RemoteError(what);
}

std::string_view kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::none:
      return "none";
#define MPSHARE_KIND(name, code, family) \
  case Kind::name:                       \
    return #name;
#include "mpshare/detail/kinds.def"
#undef MPSHARE_KIND
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
