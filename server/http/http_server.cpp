#include "http_server.hpp"

#include <array>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <unordered_map>

#include "../log.hpp"
#include "../net/tcp.hpp"

namespace mpshare::server::http {

namespace {
class Connection;
}

struct HttpServer::State {
  Source source;
  Limits limits;
  bool loopback = false;
  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> live;
};

namespace {

using asio::ip::tcp;

// One request and its answer. Owned by its pending operations.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<HttpServer::State> state, std::uint64_t id)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        state_(std::move(state)),
        id_(id) {}

  void start() {
    asio::error_code ec;
    const auto peer = socket_.remote_endpoint(ec);
    if (!ec) peer_ = peer.address().to_string() + ":" + std::to_string(peer.port());
    timer_.expires_after(state_->limits.timeout);
    timer_.async_wait([self = shared_from_this()](asio::error_code e) {
      if (!e) self->close();
    });
    do_read();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ec;
    timer_.cancel();
    socket_.close(ec);
    state_->live.erase(id_);
  }

 private:
  void do_read() {
    socket_.async_read_some(asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
                            [self = shared_from_this()](asio::error_code ec, std::size_t n) {
                              if (ec || self->closed_) return self->close();
                              self->used_ += n;
                              self->received();
                            });
  }

  void received() {
    const std::string_view got(buffer_.data(), used_);
    if (const std::size_t end = head_end(got); end != 0) {
      ParseResult parsed = parse_request(got.substr(0, end));
      if (!parsed.request) return answer(error_response(parsed.status), "-", false);
      const Request& r = *parsed.request;
      return answer(route(r, state_->source, state_->loopback), r.method + " " + r.path,
                    r.method == "HEAD");
    }
    if (used_ == buffer_.size()) return answer(error_response(431), "-", false);
    do_read();
  }

  void answer(const Response& response, const std::string& what, bool head_only) {
    if (log_enabled(LogLevel::debug))
      log(LogLevel::debug,
          "http " + peer_ + ": " + what + " -> " + std::to_string(response.status));
    out_ = serialize(response, head_only);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](asio::error_code ec, std::size_t) {
                        if (ec || self->closed_) return self->close();
                        asio::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        self->drain();
                      });
  }

  // Reads what the peer still sends until it closes (or the timeout), so
  // that closing does not reset the connection under the unread answer.
  void drain() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](asio::error_code ec, std::size_t) {
                              if (ec || self->closed_) return self->close();
                              self->drain();
                            });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<HttpServer::State> state_;
  std::uint64_t id_;
  std::array<char, max_request_head> buffer_{};
  std::size_t used_ = 0;
  std::string out_;
  std::string peer_ = "?";
  bool closed_ = false;
};

bool is_loopback(const std::string& address) {
  // "http://HOST:PORT", IPv6 hosts in brackets.
  std::string host = address.substr(7, address.rfind(':') - 7);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  asio::error_code ec;
  const auto a = asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

}  // namespace

HttpServer::HttpServer(const NetContext& net, const std::string& spec, Source source, Limits limits)
    : state_(std::make_shared<State>()) {
  state_->source = std::move(source);
  state_->limits = limits;
  const ListenAddress where = parse_listen_address(spec);
  listener_ = std::make_unique<TcpListener>(
      net, where.host, where.port, "http", [state = state_](tcp::socket s) {
        if (state->live.size() >= state->limits.max_connections) {
          log(LogLevel::info, "http: " + std::to_string(state->live.size()) +
                                  " connections open already; closing a new one");
          return;  // `s` closes here
        }
        const std::uint64_t id = state->next_id++;
        auto c = std::make_shared<Connection>(std::move(s), state, id);
        state->live.emplace(id, c);
        c->start();
      });
  state_->loopback = is_loopback(listener_->address());
}

HttpServer::~HttpServer() {
  close();
}

const std::string& HttpServer::address() const {
  return listener_->address();
}

void HttpServer::close() {
  listener_->close();
  auto live = std::move(state_->live);
  state_->live.clear();
  for (auto& [id, weak] : live)
    if (auto c = weak.lock()) c->close();
}

}  // namespace mpshare::server::http
