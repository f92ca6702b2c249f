// One authenticated socket to a server, used by one thread of one process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mpshare/detail/client.hpp"
#include "protocol/frame.hpp"

namespace mpshare::detail {

class Connection {
 public:
  // Connects and authenticates; throws ConnectionLost, AuthError, Timeout.
  Connection(const std::string& address, const AuthKey& key, const ConnectOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // False after fork() (the descriptor belongs to the parent) or a failure.
  bool usable() const;

  std::string out;            // request frames to send
  std::uint64_t request = 0;  // last request id

  // Sends `out` (then clears it). Throws ConnectionLost / Timeout.
  void send_all(Deadline deadline);
  // Receives the next reply frame; returns its header and a view of its
  // payload, valid until the next receive. Throws ConnectionLost / Timeout /
  // ProtocolError; the connection is closed when it throws.
  FrameHeader receive(Deadline deadline, std::string_view& payload);
  // The last descriptor the server passed with a reply (SharedAttach), or
  // -1; the caller owns it. Any other unclaimed ones are closed.
  int take_fd();
  // Receives `n` raw bytes (handshake).
  void receive_raw(char* dst, std::size_t n, Deadline deadline);
  void close();

 private:
  void wait_ready(short events, Deadline deadline);
  [[noreturn]] void lost(const std::string& why);
  ssize_t read_some(char* dst, std::size_t n);

  int fd_ = -1;
  std::uint64_t generation_ = 0;
  std::string address_;
  std::chrono::microseconds spin_{0};
  std::uint32_t max_frame_;
  std::vector<char> in_;
  std::size_t begin_ = 0, end_ = 0;
  std::vector<int> passed_fds_;
};

}  // namespace mpshare::detail
