// The mpshare server: listeners, sessions, the object registry, all driven by
// one Asio io_context on one thread. Not copyable. run() must be called from
// one thread; request_stop() may be called from any thread or a handler.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "call.hpp"
#include "dispatch.hpp"
#include "registry.hpp"

namespace mpshare::server {

struct ServerOptions {
  std::vector<std::string> listen;  // "unix:/path" or "tcp://host:port" (port 0: any free port)
  std::string key;                  // the shared authentication key (raw bytes)
  std::uint32_t max_frame = detail::default_max_frame;
  std::chrono::milliseconds handshake_timeout{5000};
  // Low-latency mode: after activity, poll without sleeping this long.
  std::chrono::microseconds spin{0};
  int lifeline_fd = -1;        // stop when this descriptor reaches EOF (-1: none)
  bool handle_signals = true;  // stop on SIGINT / SIGTERM
};

class Server {
 public:
  // Binds every listener; throws std::system_error or std::invalid_argument.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Bound addresses, in the order of options.listen, with real ports.
  const std::vector<std::string>& addresses() const { return addresses_; }
  // Serves until stopped. Returns after every session is closed.
  void run();
  // Stops accepting, answers what is written, closes every session.
  void request_stop();

  asio::io_context& io() { return io_; }
  Registry& registry() { return registry_; }
  Dispatcher& dispatcher() { return dispatcher_; }
  const ServerOptions& options() const { return options_; }

  // Session bookkeeping (sessions call these).
  SessionId next_session_id() { return next_session_++; }
  void add_session(std::shared_ptr<SessionBase> s);
  void session_closed(SessionId id);
  bool stopping() const { return stopping_; }

 private:
  class ListenerBase;
  template <class Protocol>
  class Listener;

  void stop_all();
  void watch_lifeline();

  ServerOptions options_;
  asio::io_context io_{1};
  Registry registry_{io_};
  Dispatcher dispatcher_{registry_, [this] { request_stop(); }};
  std::vector<std::unique_ptr<ListenerBase>> listeners_;
  std::vector<std::string> addresses_;
  std::unordered_map<SessionId, std::shared_ptr<SessionBase>> sessions_;
  SessionId next_session_ = 1;
  asio::signal_set signals_{io_};
  std::unique_ptr<asio::posix::stream_descriptor> lifeline_;
  asio::steady_timer drain_timer_{io_};
  bool stopping_ = false;
};

}  // namespace mpshare::server
