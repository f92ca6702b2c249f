// The client transport seam: one byte stream to a server, whatever carries
// it (transport_unix.cpp, transport_tcp.cpp, transport_tls.cpp). A
// Connection frames requests and replies over it.
#pragma once

#include <poll.h>

#include <cstddef>
#include <memory>
#include <string>

#include "mpshare/detail/client.hpp"

namespace mpshare::detail {

struct Address;

// Not thread-safe: one Connection uses it on one thread. Its descriptor is
// registered as inherited (fd_registry.hpp): a forked child never uses it,
// and destroying it there closes nothing of the parent's.
class Transport {
 public:
  // What a transfer that moved no bytes waits for before trying again.
  enum class Wait : short { none = 0, readable = POLLIN, writable = POLLOUT };
  struct Io {
    std::size_t bytes = 0;
    Wait wait = Wait::none;  // set when nothing moved and the peer is still there
    bool eof = false;        // the peer closed the stream
  };

  virtual ~Transport() = default;
  Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Non-blocking. Throw ConnectionLost (AuthError when a TLS peer refuses
  // this client's certificate).
  virtual Io read_some(char* dst, std::size_t n) = 0;
  virtual Io write_some(const char* src, std::size_t n) = 0;
  // The descriptor to poll; false after fork() in the child.
  virtual int fd() const = 0;
  virtual bool usable() const = 0;
  // A descriptor the server passed with the bytes read so far (Unix
  // sockets), or -1; the caller owns it. Any other unclaimed ones are closed.
  virtual int take_fd() { return -1; }
};

// Nothing listens at the address (ENOENT, ECONNREFUSED): the server has
// not started yet, or was stopped. ConnectOptions::retry_for retries these.
class NotListening : public ConnectionLost {
 public:
  using ConnectionLost::ConnectionLost;
};

// Connects to a unix:, tcp:// or tls:// address before `deadline`. Throws
// NotListening, ConnectionLost or Timeout; for TLS also AuthError (the server's
// certificate is not trusted or does not name the host) and ValueError (a
// certificate file in options.tls cannot be loaded).
std::unique_ptr<Transport> connect_transport(const std::string& address,
                                             const ConnectOptions& options, Deadline deadline);

// The parsed address; a malformed one throws ValueError naming it.
Address parse_client_address(const std::string& address);

// Throws NotListening when errno `err` of a failed connect says nothing
// listens there, else ConnectionLost; both name the address.
[[noreturn]] void throw_connect_error(const std::string& address, int err);

// Waits until `fd` is ready for `wait`: false when the deadline passed
// first. Throws ConnectionLost when poll fails.
bool wait_ready(int fd, Transport::Wait wait, Deadline deadline);

}  // namespace mpshare::detail
