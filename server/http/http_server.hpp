// The web page's HTTP/1.1 server, on the object server's event loop. Each
// connection carries one GET or HEAD request and is closed after the
// answer. Connections are bounded in number, request size and time, so no
// browser or peer can stall the loop or exhaust memory. Used only on the
// event-loop thread. Owned by the Server; not copyable.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "../net/context.hpp"
#include "routes.hpp"

namespace mpshare::server {
class Listener;
}

namespace mpshare::server::http {

struct Limits {
  std::size_t max_connections = 32;  // more are closed at once
  // From accept to the answer written: a slower peer is dropped.
  std::chrono::milliseconds timeout{10000};
};

class HttpServer {
 public:
  // Binds `spec` (see parse_listen_address). Throws std::invalid_argument
  // or std::system_error naming the address.
  HttpServer(const NetContext& net, const std::string& spec, Source source, Limits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "http://HOST:PORT" with the real port.
  const std::string& address() const;
  // Stops accepting and closes every connection.
  void close();

  struct State;  // shared with the connections, which may outlive this

 private:
  std::shared_ptr<State> state_;
  std::unique_ptr<Listener> listener_;
};

}  // namespace mpshare::server::http
