#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "connection.hpp"
#include "mpshare/detail/client.hpp"
#include "protocol/address.hpp"
#include "protocol/frame.hpp"
#include "protocol/handshake.hpp"

namespace mpshare {

AuthKey AuthKey::random() {
  std::string bytes(32, '\0');
  detail::random_bytes(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size());
  return from_string(std::move(bytes));
}

namespace {

// True when `bytes` is one line of printable text ended by a newline, as
// `echo secret > key` writes.
bool is_text_line(const std::string& bytes) {
  if (bytes.size() < 2 || bytes.back() != '\n') return false;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

AuthKey AuthKey::from_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw AuthError("cannot read auth key file '" + path + "': " + std::strerror(errno));
  std::string bytes;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw AuthError("cannot read auth key file '" + path + "': " + std::strerror(err));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (bytes.empty()) throw AuthError("auth key file '" + path + "' is empty");
  if (is_text_line(bytes))
    throw AuthError("auth key file '" + path +
                    "' is a line of text ending in a newline (as `echo secret > key` writes), "
                    "and the newline would be part of the key: write it without one "
                    "(printf %s 'a shared secret of 16 bytes or more' > key), or make a random "
                    "key with `head -c 32 /dev/urandom > key`");
  try {
    detail::check_key(bytes);
  } catch (const ValueError& e) {
    throw ValueError("auth key file '" + path + "': " + e.what());
  }
  return from_string(std::move(bytes));
}

namespace detail {

namespace {

std::atomic<std::uint64_t> next_core_id{1};

// True once this thread's connection table is destroyed (thread exit, or
// process exit for the main thread, before static objects such as a static
// Manager are destroyed). Trivially destructible, so readable until the end.
thread_local bool t_connections_gone = false;

// This thread's connections, one per core. Closed when the thread exits,
// when their core is destroyed on this thread, or (destroyed on another
// thread) when this thread next opens a connection.
struct ThreadConnections {
  ~ThreadConnections() { t_connections_gone = true; }

  struct Entry {
    std::uint64_t core;
    std::weak_ptr<const ClientCore> owner;
    std::unique_ptr<Connection> conn;
  };
  std::vector<Entry> entries;
  std::uint64_t last_core = 0;
  Connection* last = nullptr;

  Connection* find(std::uint64_t core) {
    if (core == last_core && last) return last;
    for (auto& e : entries)
      if (e.core == core) {
        last_core = core;
        last = e.conn.get();
        return last;
      }
    return nullptr;
  }
  void erase(std::uint64_t core) {
    std::erase_if(entries, [&](const Entry& e) { return e.core == core || e.owner.expired(); });
    last_core = 0;
    last = nullptr;
  }
};

thread_local ThreadConnections t_connections;
thread_local ClientCore* t_decode_context = nullptr;

}  // namespace

ClientCore::ClientCore(std::string address, AuthKey key, ConnectOptions options)
    : id_(next_core_id++), address_(std::move(address)), key_(std::move(key)), options_(options) {
  parse_client_address(address_);  // validate early
  check_key(key_.bytes());
}

ClientCore::~ClientCore() {
  if (!t_connections_gone) t_connections.erase(id_);
}

bool ClientCore::is_local() const {
  return address_.rfind("unix:", 0) == 0;
}

Connection& ClientCore::connection() {
  if (t_connections_gone) throw ConnectionLost(address_ + ": this thread is exiting");
  Connection* c = t_connections.find(id_);
  if (c && c->usable()) return *c;
  t_connections.erase(id_);  // a stale one, and those of destroyed cores
  if (stopped_.load(std::memory_order_relaxed))
    throw ConnectionLost(address_ + ": the server was stopped (Manager::shutdown)");
  auto conn = std::make_unique<Connection>(address_, key_, options_);
  Connection* raw = conn.get();
  t_connections.entries.push_back({id_, weak_from_this(), std::move(conn)});
  t_connections.last_core = id_;
  t_connections.last = raw;
  return *raw;
}

void ClientCore::disconnect_this_thread() {
  if (!t_connections_gone) t_connections.erase(id_);
}

std::string& ClientCore::request_buffer(Connection& c) {
  return c.request_buffer();
}

std::uint64_t ClientCore::next_request(Connection& c) {
  return c.next_request();
}

std::string_view ClientCore::exchange(Connection& c, Deadline deadline) {
  const std::uint64_t request = c.last_request();
  std::string_view payload;
  FrameHeader h;
  try {
    c.send_all(deadline);
    h = c.receive(deadline, payload);
  } catch (...) {
    disconnect_this_thread();
    throw;
  }
  if (h.request != request) {
    disconnect_this_thread();
    throw ProtocolError("reply to request " + std::to_string(h.request) + " while waiting for " +
                        std::to_string(request));
  }
  if (h.op != 0) {
    try {
      throw_reply_error(h.op, payload);  // payload lives in the connection's buffer
    } catch (const ProtocolError&) {
      // The server may have lost the framing and closes.
      disconnect_this_thread();
      throw;
    }
  }
  return payload;
}

void ClientCore::exchange_batch(std::string frames, Deadline deadline, std::string& payloads,
                                std::vector<Reply>& replies) {
  Connection& c = connection();
  // Request ids are this connection's, given now: the batch may have been
  // filled before a fork, or before this thread's connection existed.
  const std::uint64_t first = c.last_request() + 1;
  for (std::size_t at = 0; at < frames.size();) {
    FrameHeader h = read_header(frames.data() + at);
    h.request = c.next_request();
    write_header(h, frames.data() + at);
    at += FrameHeader::size + h.length;
  }
  c.request_buffer().swap(frames);
  const std::size_t n = c.last_request() - first + 1;
  replies.assign(n, Reply{});
  std::vector<bool> seen(n, false);
  try {
    c.send_all(deadline);
    for (std::size_t got = 0; got < n; ++got) {
      std::string_view payload;
      FrameHeader h = c.receive(deadline, payload);
      const std::uint64_t i = h.request - first;
      if (h.request < first || i >= n || seen[i])
        throw ProtocolError("unexpected reply to request " + std::to_string(h.request));
      seen[i] = true;
      replies[i] = Reply{h.op, payloads.size(), payload.size()};
      payloads.append(payload);
    }
  } catch (...) {
    disconnect_this_thread();
    throw;
  }
  // As in exchange: after a protocol error the server closes the connection.
  for (const Reply& r : replies)
    if (static_cast<Errc>(r.status) == Errc::protocol_error) return disconnect_this_thread();
}

ClientCore* ClientCore::decode_context() {
  return t_decode_context;
}

std::shared_ptr<ClientCore> ClientCore::for_address(const std::string& address) {
  if (address == address_) return shared_from_this();
  return std::make_shared<ClientCore>(address, key_, options_);
}

DecodeContextScope::DecodeContextScope(ClientCore* core) : previous_(t_decode_context) {
  t_decode_context = core;
}
DecodeContextScope::~DecodeContextScope() {
  t_decode_context = previous_;
}

}  // namespace detail
}  // namespace mpshare
