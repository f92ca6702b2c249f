#include "server.hpp"

#include <asio/post.hpp>
#include <cstring>

#include "log.hpp"
#include "protocol/handshake.hpp"

namespace mpshare::server {

Server::Server(ServerOptions options) : options_(std::move(options)) {
  if (options_.listen.empty()) throw std::invalid_argument("no address to listen on");
  detail::check_key(options_.key);
  dispatcher_.set_server(this);
  for (const auto& a : options_.listen) {
    listeners_.push_back(listen(a, net_));
    addresses_.push_back(listeners_.back()->address());
  }
  if (!options_.http.empty())
    http_ = std::make_unique<http::HttpServer>(net_, options_.http, http_source());
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](asio::error_code ec, int sig) {
      if (ec) return;
      log(LogLevel::info, std::string("signal ") + ::strsignal(sig) + ": stopping");
      stop_all();
    });
  }
  if (options_.lifeline_fd >= 0) {
    lifeline_ = std::make_unique<asio::posix::stream_descriptor>(io_, options_.lifeline_fd);
    watch_lifeline();
  }
}

Server::~Server() {
  registry_.shutdown();
  http_.reset();
  listeners_.clear();
}

void Server::watch_lifeline() {
  static char byte;
  lifeline_->async_read_some(asio::buffer(&byte, 1), [this](asio::error_code ec, std::size_t) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) return watch_lifeline();
    log(LogLevel::info, "owner process gone: stopping");
    stop_all();
  });
}

void Server::run() {
  // An exception escaping a completion handler ends that handler only: it
  // is logged and the loop goes on serving everyone else.
  for (;;) {
    try {
      run_loop();
      return;
    } catch (const std::exception& e) {
      log(LogLevel::error, std::string("event loop: ") + e.what());
    }
  }
}

void Server::run_loop() {
  if (options_.spin.count() <= 0) {
    io_.run();
    return;
  }
  // Low-latency mode: after any activity keep polling for `spin`, then block.
  while (!io_.stopped()) {
    if (io_.run_one() == 0) break;
    auto until = std::chrono::steady_clock::now() + options_.spin;
    while (std::chrono::steady_clock::now() < until && !io_.stopped()) {
      if (io_.poll() > 0) until = std::chrono::steady_clock::now() + options_.spin;
    }
  }
}

void Server::request_stop() {
  asio::post(io_, [this] { stop_all(); });
}

void Server::stop_all() {
  if (stopping_) return;
  stopping_ = true;
  for (auto& l : listeners_) l->close();
  if (http_) http_->close();
  asio::error_code ec;
  signals_.cancel(ec);
  if (lifeline_) lifeline_->cancel(ec);
  registry_.shutdown();
  // A peer that does not read its replies does not hold the server up.
  drain_timer_.expires_after(std::chrono::seconds(2));
  drain_timer_.async_wait([this](asio::error_code e) {
    if (!e) io_.stop();
  });
  sessions_.stop_all([this] { drain_timer_.cancel(); });
}

}  // namespace mpshare::server
