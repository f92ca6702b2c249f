// libFuzzer target: request frames from two sessions into the server's
// dispatcher, with the real op table, handlers and objects in process (no
// sockets). Frames are read from the input as a session would (reply
// frames are dropped, as sessions do); bit 1 of a frame's flags picks the
// session. Timers run between frames; at the
// end one session disconnects, then the registry shuts down. Any crash,
// sanitizer report or escaping exception is a finding.
#include <asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/dispatch.hpp"
#include "server/registry.hpp"

using namespace mpshare;
using namespace mpshare::detail;

namespace {

constexpr std::uint32_t max_frame = 1u << 20;

// Replies are kept only until the next frame, as if written at once.
class BufferSession final : public server::SessionBase {
 public:
  using SessionBase::SessionBase;
  std::string& out() override { return out_; }
  void flush() override { out_.clear(); }
  void stop() override { closed_ = true; }
  void close() { closed_ = true; }

 private:
  std::string out_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  asio::io_context io;
  server::Registry registry(io, server::ObjectLimits{1u << 20, max_frame});
  server::Dispatcher dispatcher(registry, [] {});
  std::shared_ptr<BufferSession> sessions[2] = {std::make_shared<BufferSession>(1),
                                                std::make_shared<BufferSession>(2)};
  while (in.size() >= FrameHeader::size) {
    const FrameHeader h = read_header(in.data());
    in.remove_prefix(FrameHeader::size);
    if (h.length > max_frame || h.length > in.size()) break;
    const std::string_view payload = in.substr(0, h.length);
    in.remove_prefix(h.length);
    auto& s = sessions[(h.flags >> 1) & 1];
    if (h.is_reply() || s->closed()) continue;
    dispatcher.dispatch(s, h, payload);
    s->out().clear();
    io.poll();
  }
  sessions[0]->close();
  registry.on_disconnect(sessions[0]->id());
  io.poll();
  registry.shutdown();
  io.poll();
  return 0;
}
