#include "dispatch.hpp"

#include <array>
#include <cstdio>
#include <tuple>

#include "handlers.hpp"
#include "log.hpp"
#include "registry.hpp"

namespace mpshare::server {

void append_error(std::string& out, const detail::FrameHeader& h, Errc code,
                  const std::string& msg) {
  detail::append_frame(out, static_cast<std::uint16_t>(code), detail::FrameHeader::reply_flag,
                       h.request, h.object, msg);
}

Registry& Call::registry() const {
  return dispatcher_.registry();
}

void Call::request_stop() const {
  dispatcher_.request_stop();
}

namespace {

using Invoke = void (*)(Call&, std::string_view payload, std::string& out);

struct Entry {
  std::uint32_t kinds = 0;
  Invoke invoke = nullptr;
  const char* name = nullptr;
  std::uint16_t index = 0;  // in op_codes
};

template <class Op>
void invoke(Call& call, std::string_view payload, std::string& out) {
  typename Op::Args args;
  std::apply([&](auto&... a) { decode_into(payload, a...); }, args);
  std::optional<typename Op::Result> result =
      std::apply([&](auto&... a) { return handle(Op{}, call, std::move(a)...); }, args);
  if (!result) return;
  const std::size_t at = out.size();
  append_frame(out, 0, FrameHeader::reply_flag, call.header().request, call.header().object,
               *result);
  call.registry().hand_out(call.session_id(), call.peer_pid(), std::string_view(out).substr(at));
}

constexpr std::size_t table_size = 0x1000;

constexpr std::array<Entry, table_size> make_table() {
  std::array<Entry, table_size> t{};
  std::uint16_t index = 0;
#define MPSHARE_OP(Name, code, kinds, ...)                 \
  static_assert((code) < table_size, "op code too large"); \
  t[code] = Entry{kinds, &invoke<op::Name>, #Name, index++};
#include "mpshare/detail/ops.def"
#undef MPSHARE_OP
  return t;
}

constexpr std::array<Entry, table_size> table = make_table();

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

void Dispatcher::dispatch(const std::shared_ptr<SessionBase>& session, const FrameHeader& h,
                          std::string_view payload) {
  std::string& out = session->out();
  const Entry* entry = h.op < table_size && table[h.op].invoke ? &table[h.op] : nullptr;
  ++counters_.requests;
  ++session->stats().requests;
  if (entry == nullptr) {
    log(LogLevel::warn, session->tag() + ": unknown op " + hex(h.op));
    return append_error(out, h, Errc::protocol_error, "unknown op " + hex(h.op));
  }
  ++counters_.ops[entry->index];
  ++session->stats().ops[entry->index];
  if (log_enabled(LogLevel::debug))
    log(LogLevel::debug, session->tag() + ": " + entry->name + " object " +
                             std::to_string(h.object) + " request " + std::to_string(h.request) +
                             ", " + std::to_string(payload.size()) + " bytes");
  // Requests of this op answered at once with an error.
  std::uint64_t& errors = counters_.errors[entry->index];
  Object* object = nullptr;
  if (entry->kinds != KindMask::none) {
    object = registry_.find(h.object);
    if (object == nullptr) {
      ++errors;
      return append_error(
          out, h, Errc::no_such_object,
          std::string(entry->name) + ": no object with id " + std::to_string(h.object));
    }
    if ((entry->kinds & KindMask::bit(object->kind())) == 0) {
      ++errors;
      return append_error(out, h, Errc::type_mismatch,
                          std::string(entry->name) + " does not apply to '" + object->name() +
                              "', a " + std::string(kind_name(object->kind())));
    }
  }
  Call call(*this, session, h, object);
  try {
    if (object != nullptr) {
      registry_.touch(session->id(), *object);
      registry_.note_request(*object, payload);
    }
    entry->invoke(call, payload, out);
  } catch (const HandlerError& e) {
    ++errors;
    append_error(out, h, e.code(), e.what());
  } catch (const Error& e) {
    ++errors;
    if (e.errc() == Errc::protocol_error)
      log(LogLevel::warn, session->tag() + ": " + entry->name + ": " + e.what());
    append_error(out, h, e.errc(), std::string(entry->name) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    ++errors;
    append_error(out, h, Errc::remote_error, std::string(entry->name) + ": out of memory");
  } catch (const std::exception& e) {
    ++errors;
    log(LogLevel::error, std::string(entry->name) + ": " + e.what());
    append_error(out, h, Errc::remote_error, std::string(entry->name) + ": " + e.what());
  }
  // Stored proxies may have changed; objects left without references go
  // only now that the reply holding any proxy it hands out is counted.
  try {
    if (object != nullptr) registry_.recount(*object);
    registry_.collect();
  } catch (const std::exception& e) {
    log(LogLevel::error, std::string(entry->name) + ": counting references: " + e.what());
  }
}

}  // namespace mpshare::server
