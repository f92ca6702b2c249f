// Manager-level ops: ping, open, remove, release, objects, shutdown.
#include "../handlers.hpp"
#include "../registry.hpp"

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

std::optional<Unit> handle(op::Shutdown, Call& call) {
  call.request_stop();
  return Unit{};
}

}  // namespace mpshare::server
