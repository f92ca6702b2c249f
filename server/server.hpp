// The mpshare server: the event loop, its listeners, and what stops it
// (signals, the lifeline, the Shutdown op). Everything runs on one thread
// in one Asio io_context. Not copyable. run() must be called from one
// thread; request_stop() may be called from any thread or a handler.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "dispatch.hpp"
#include "http/http_server.hpp"
#include "introspect.hpp"
#include "net/admission.hpp"
#include "net/auth_throttle.hpp"
#include "net/context.hpp"
#include "net/listener.hpp"
#include "net/sessions.hpp"
#include "options.hpp"
#include "registry.hpp"

namespace mpshare::server {

class Server {
 public:
  // Binds every listener; throws std::system_error or std::invalid_argument.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Bound addresses, in the order of options.listen, with real ports.
  const std::vector<std::string>& addresses() const { return addresses_; }
  // "http://HOST:PORT" of the web page (options.http), or empty.
  std::string http_address() const { return http_ ? http_->address() : std::string(); }
  // Serves until stopped. Returns after every session is closed.
  void run();
  // Stops accepting, answers what is written, closes every session.
  void request_stop();

  // For introspection (introspect.hpp), on the event-loop thread only.
  asio::io_context& io() { return io_; }
  const ServerOptions& options() const { return options_; }
  const Registry& registry() const { return registry_; }
  const SessionManager& sessions() const { return sessions_; }
  const Dispatcher& dispatcher() const { return dispatcher_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  std::chrono::system_clock::time_point started_at() const { return started_at_; }
  RateSamples& rate_samples() const { return rate_samples_; }

 private:
  void run_loop();
  void stop_all();
  void watch_lifeline();
  http::Source http_source();  // server/http/source.cpp

  const ServerOptions options_;
  asio::io_context io_{1};
  Registry registry_{io_, ObjectLimits{options_.max_shared_bytes, options_.max_frame}};
  Dispatcher dispatcher_{registry_, [this] { request_stop(); }};
  Admission admission_{io_, options_};
  AuthThrottle throttle_;
  SessionManager sessions_{registry_};
  const NetContext net_{io_, dispatcher_, sessions_, options_, admission_, throttle_};
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::string> addresses_;
  std::unique_ptr<http::HttpServer> http_;
  asio::signal_set signals_{io_};
  std::unique_ptr<asio::posix::stream_descriptor> lifeline_;
  asio::steady_timer drain_timer_{io_};
  bool stopping_ = false;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  mutable RateSamples rate_samples_;
};

}  // namespace mpshare::server
