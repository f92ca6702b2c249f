// What the socket transports share: a connected non-blocking stream socket
// and connecting one before a deadline.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "transport.hpp"

namespace mpshare::detail {

struct Address;

// Owns the socket: closed on destruction, in the process that opened it.
class SocketTransport : public Transport {
 public:
  SocketTransport(int fd, std::string address);
  ~SocketTransport() override;

  Io read_some(char* dst, std::size_t n) override;
  Io write_some(const char* src, std::size_t n) override;
  int fd() const override { return fd_; }
  bool usable() const override;

 protected:
  [[noreturn]] void lost(const std::string& why) const;
  const std::string& address() const { return address_; }

 private:
  int fd_;
  std::uint64_t generation_;
  std::string address_;
};

// A connected, registered, non-blocking socket to `sa`, or -1 with errno.
int connect_socket(int family, const sockaddr* sa, socklen_t len, Deadline deadline);
// A connected TCP socket to a.host:a.port (no delay). Throws ConnectionLost.
int connect_tcp_socket(const Address& a, const std::string& address, Deadline deadline);

std::unique_ptr<Transport> connect_unix(const Address& a, const std::string& address,
                                        Deadline deadline);
std::unique_ptr<Transport> connect_tcp(const Address& a, const std::string& address,
                                       Deadline deadline);
std::unique_ptr<Transport> connect_tls(const Address& a, const std::string& address,
                                       const TlsOptions& tls, Deadline deadline);

}  // namespace mpshare::detail
