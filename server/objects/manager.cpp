// Manager-level ops: ping, open, remove, objects, shutdown.
#include "../handlers.hpp"
#include "../server.hpp"

namespace mpshare::server {

std::optional<Unit> handle(op::Ping, Call&) {
  return Unit{};
}

std::optional<OpenReply> handle(op::Open, Call& call, OpenRequest req) {
  return call.server().registry().open(req);
}

std::optional<Unit> handle(op::Remove, Call& call, std::string name) {
  call.server().registry().remove(name);
  return Unit{};
}

std::optional<ObjectInfos> handle(op::Objects, Call& call) {
  return call.server().registry().list();
}

std::optional<Unit> handle(op::Shutdown, Call& call) {
  call.server().request_stop();
  return Unit{};
}

}  // namespace mpshare::server
