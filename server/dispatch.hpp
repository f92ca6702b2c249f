// The dispatch table: op code -> handler, generated from ops.def, with the
// generic checks (op known, object exists, kind accepted, payload decodes)
// done once before any handler. No sockets: sessions hand it the frames
// they read, and tests can too.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "call.hpp"
#include "counters.hpp"

namespace mpshare::server {

class Server;

// Appends an error reply to the request `h`.
void append_error(std::string& out, const detail::FrameHeader& h, Errc code,
                  const std::string& message);

// Runs requests against one registry's objects. Used only on the event-loop
// thread. Not copyable.
class Dispatcher {
 public:
  // `registry` must outlive the dispatcher; `stop` is what the Shutdown op
  // calls.
  Dispatcher(Registry& registry, std::function<void()> stop)
      : registry_(registry), stop_(std::move(stop)) {}
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Handles one request frame: appends its reply to session->out(), unless
  // the handler parked it. Never throws for bad input: errors become replies.
  void dispatch(const std::shared_ptr<SessionBase>& session, const detail::FrameHeader& header,
                std::string_view payload);

  Registry& registry() const { return registry_; }
  void request_stop() const { stop_(); }

  // Counted by the dispatcher (requests) and the sessions (bytes, failed
  // handshakes).
  ServerCounters& counters() { return counters_; }
  const ServerCounters& counters() const { return counters_; }
  // The server whose requests this dispatches, for the ops that describe
  // or stop it; nullptr for a dispatcher used on its own (then those ops
  // fail with state_error). `server` must outlive the dispatcher's use.
  const Server* server() const { return server_; }
  void set_server(const Server* server) { server_ = server; }

 private:
  Registry& registry_;
  std::function<void()> stop_;
  ServerCounters counters_;
  const Server* server_ = nullptr;
};

}  // namespace mpshare::server
