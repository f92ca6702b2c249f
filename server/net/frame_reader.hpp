// The read side of a session's framing. Used only on the event-loop
// thread. Owned by its session; not copyable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/frame.hpp"

namespace mpshare::server {

// Bytes read from a peer and the frames in them. The buffer starts small
// (512 bytes) and grows only as bytes arrive: to what a pending frame
// declares, never beyond twice what has arrived, and a declared length
// above the maximum is refused before anything is allocated for it. When a
// small frame empties a buffer above 64 KiB, it shrinks back to 64 KiB.
class FrameReader {
 public:
  FrameReader() = default;
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  // Where to read next (never empty); then commit() what was read.
  std::span<char> prepare();
  void commit(std::size_t n) { end_ += n; }

  // Bytes received and not consumed.
  std::string_view unread() const { return {in_.data() + begin_, end_ - begin_}; }
  void consume(std::size_t n);

  enum class Next { need_more, frame, too_large };
  // The next whole frame: its header and payload (valid until the next
  // prepare()), consumed. With too_large only `header` is set.
  Next next(std::uint32_t max_frame, detail::FrameHeader& header, std::string_view& payload);

 private:
  std::vector<char> in_;
  std::size_t begin_ = 0, end_ = 0;
  std::size_t last_consumed_ = 0;
};

}  // namespace mpshare::server
