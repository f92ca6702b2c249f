// One authenticated stream to a server, used by one thread of one process:
// frames requests out and replies in over a Transport.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mpshare/detail/client.hpp"
#include "protocol/frame.hpp"
#include "transport.hpp"

namespace mpshare::detail {

// Not thread-safe, not copyable. After fork() the child's copy is not
// usable() and never touches the parent's stream.
class Connection {
 public:
  // Connects and authenticates; throws ConnectionLost, AuthError, Timeout
  // (ValueError for unusable TLS files).
  Connection(const std::string& address, const AuthKey& key, const ConnectOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // False after fork() (the stream belongs to the parent) or a failure.
  bool usable() const;

  // The buffer the next request frames are appended to (emptied here).
  std::string& request_buffer() {
    out_.clear();
    return out_;
  }
  // A fresh request id, and the last one given.
  std::uint64_t next_request() { return ++request_; }
  std::uint64_t last_request() const { return request_; }

  // Sends the request buffer. Throws ConnectionLost / Timeout.
  void send_all(Deadline deadline);
  // Receives the next reply frame; returns its header and a view of its
  // payload, valid until the next receive. Throws ConnectionLost / Timeout /
  // ProtocolError; the connection is closed when it throws.
  FrameHeader receive(Deadline deadline, std::string_view& payload);
  // The last descriptor the server passed with a reply (SharedAttach, Unix
  // sockets only), or -1; the caller owns it.
  int take_fd();
  void close();

 private:
  void authenticate(const AuthKey& key, Deadline deadline);
  void receive_raw(char* dst, std::size_t n, Deadline deadline);
  // Reads what is there into in_; false when nothing was (wait_ is set).
  bool fill();
  void wait(Transport::Wait w, Deadline deadline);
  [[noreturn]] void lost(const std::string& why);

  std::unique_ptr<Transport> transport_;
  std::string address_;
  std::chrono::microseconds spin_{0};
  std::uint32_t max_frame_;
  std::string out_;            // request frames to send
  std::uint64_t request_ = 0;  // last request id
  std::vector<char> in_;
  std::size_t begin_ = 0, end_ = 0;
  Transport::Wait wait_ = Transport::Wait::readable;  // what the last empty read waits for
};

}  // namespace mpshare::detail
