// Manager-level ops: ping, open, remove, release, objects, shutdown,
// introspection.
#include "../dispatch.hpp"
#include "../handlers.hpp"
#include "../introspect.hpp"
#include "../log.hpp"
#include "../registry.hpp"
#include "../server.hpp"

namespace mpshare::server {

std::optional<Unit> handle(op::Ping, Call&) {
  return Unit{};
}

std::optional<OpenReply> handle(op::Open, Call& call, OpenRequest req) {
  return call.registry().open(req, call.session_id(), call.peer_pid());
}

std::optional<Unit> handle(op::Remove, Call& call, std::string name) {
  call.registry().remove(name);
  return Unit{};
}

std::optional<Unit> handle(op::Release, Call& call, std::uint64_t id, std::uint64_t count) {
  call.registry().release(call.session_id(), call.peer_pid(), id, count);
  return Unit{};
}

std::optional<ObjectInfos> handle(op::Objects, Call& call) {
  return call.registry().list();
}

namespace {

const Server& server_of(Call& call, const char* op) {
  const Server* s = call.dispatcher().server();
  if (s == nullptr) fail(Errc::state_error, std::string(op) + ": no server to describe");
  return *s;
}

}  // namespace

std::optional<Unit> handle(op::Shutdown, Call& call) {
  const Server* server = call.dispatcher().server();
  const std::string who = call.session().tag();
  if (server != nullptr && !may_stop(*server, call.session())) {
    log(LogLevel::warn, who + ": shutdown refused");
    const std::int64_t owner = server->options().owner_pid;
    fail(Errc::permission_denied,
         "only the process that started this server" +
             (owner > 0 ? " (pid " + std::to_string(owner) + ")" : std::string()) +
             " may stop it, or any client of a server run with --allow-shutdown; this "
             "connection is " +
             describe(call.session().peer()));
  }
  log(LogLevel::info, who + ": shutdown asked: stopping");
  call.request_stop();
  return Unit{};
}

std::optional<ServerInfo> handle(op::Info, Call& call) {
  return collect_info(server_of(call, "Info"));
}

std::optional<ClientInfos> handle(op::Clients, Call& call) {
  return collect_clients(server_of(call, "Clients"), call.session_id());
}

std::optional<ObjectDetails> handle(op::ObjectsDetail, Call& call) {
  return collect_objects(call.registry());
}

}  // namespace mpshare::server
