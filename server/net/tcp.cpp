#include "tcp.hpp"

#include "session.hpp"
#include "socket.hpp"

namespace mpshare::server {

using TcpSocket = asio::ip::tcp::socket;

template <>
struct Transport<TcpSocket> : SocketTransport {
  static constexpr const char* name = "tcp";
  static constexpr bool passes_fds = false;
};

TcpListener::TcpListener(const NetContext& net, const std::string& host, std::uint16_t port,
                         const char* scheme, std::function<void(TcpSocket)> on_accept)
    : acceptor_(net, std::move(on_accept)) {
  const std::string wanted = std::string(scheme) + "://" +
                             (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" +
                             std::to_string(port);
  asio::ip::tcp::resolver resolver(net.io);
  asio::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), asio::ip::resolver_base::passive, ec);
  if (ec || results.empty())
    throw std::system_error(ec ? ec : asio::error::host_not_found,
                            "cannot resolve host '" + host + "' of " + wanted);
  auto ep = results.begin()->endpoint();
  auto& a = acceptor_.get();
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  if (a.bind(ep, ec); ec) throw std::system_error(ec, "cannot bind " + wanted);
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec)
    throw std::system_error(ec, "cannot listen on " + wanted);
  auto bound = a.local_endpoint();
  std::string bound_host = bound.address().to_string();
  if (bound.address().is_v6()) bound_host = "[" + bound_host + "]";
  address_ = std::string(scheme) + "://" + bound_host + ":" + std::to_string(bound.port());
  acceptor_.start();
}

std::unique_ptr<Listener> listen_tcp(const std::string& host, std::uint16_t port,
                                     const NetContext& net) {
  return std::make_unique<TcpListener>(net, host, port, "tcp",
                                       [&net](TcpSocket s) { start_session(net, std::move(s)); });
}

}  // namespace mpshare::server
