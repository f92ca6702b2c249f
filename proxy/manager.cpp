#include "mpshare/manager.hpp"

#include <unistd.h>

#include "protocol/handshake.hpp"
#include "spawn.hpp"

namespace mpshare {

namespace detail {

OpenReply open_object(ClientCore& core, const std::string& name, Kind kind, const std::string& type,
                      ValueCode code, const Bytes& params) {
  return core.call<op::Open>(0, OpenRequest{name, kind, type, code, params});
}

}  // namespace detail

Manager Manager::spawn(SpawnOptions options) {
  if (options.key) detail::check_key(options.key->bytes());
  AuthKey key = options.key ? *options.key : AuthKey::random();
  auto spawned = Spawned::start(options, key);
  std::vector<std::string> addresses = spawned->addresses;
  auto core = std::make_shared<detail::ClientCore>(addresses.front(), key, options.connect);
  return Manager(std::move(core), std::move(spawned), std::move(addresses));
}

Manager Manager::connect(const std::string& address, AuthKey key, ConnectOptions options) {
  auto core = std::make_shared<detail::ClientCore>(address, std::move(key), options);
  core->call<detail::op::Ping>(0);  // fail now, not at first use
  return Manager(std::move(core), nullptr, {address});
}

Manager::Manager(std::shared_ptr<detail::ClientCore> core, std::unique_ptr<Spawned> spawned,
                 std::vector<std::string> addresses)
    : core_(std::move(core)), spawned_(std::move(spawned)), addresses_(std::move(addresses)) {}

Manager::Manager(Manager&&) noexcept = default;
Manager& Manager::operator=(Manager&&) noexcept = default;

Manager::~Manager() {
  if (spawned_ && spawned_->server != 0 && ::getpid() == spawned_->owner) {
    try {
      shutdown();
    } catch (...) {
    }
  }
}

const std::string& Manager::address() const {
  return core_->address();
}
const std::vector<std::string>& Manager::addresses() const {
  return addresses_;
}
const AuthKey& Manager::key() const {
  return core_->key();
}
pid_t Manager::server_pid() const {
  return spawned_ ? spawned_->server : 0;
}

void Manager::remove(const std::string& name) {
  core_->call<detail::op::Remove>(0, name);
}

std::vector<ObjectInfo> Manager::objects() const {
  return core_->call<detail::op::Objects>(0);
}

void Manager::ping() const {
  core_->call<detail::op::Ping>(0);
}

ServerInfo Manager::info() const {
  return core_->call<detail::op::Info>(0);
}

std::vector<ClientInfo> Manager::clients() const {
  return core_->call<detail::op::Clients>(0);
}

std::vector<ObjectDetail> Manager::objects_detail() const {
  return core_->call<detail::op::ObjectsDetail>(0);
}

void Manager::shutdown() {
  const bool owner = spawned_ && ::getpid() == spawned_->owner;
  if (spawned_ && !owner) return;  // a forked child's copy never stops the server
  try {
    core_->call_until<detail::op::Shutdown>(0, detail::Deadline::after(std::chrono::seconds(2)));
  } catch (const ConnectionLost&) {
  } catch (const Timeout&) {
  }
  core_->disconnect_this_thread();
  core_->mark_stopped();
  if (owner) spawned_->stop(std::chrono::seconds(5));
}

}  // namespace mpshare
