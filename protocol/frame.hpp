// Frame layout, private to the server and the client library: the public
// templates build frames through frame_begin / frame_end and never see it.
// docs/PROTOCOL.md specifies every byte.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mpshare/detail/protocol.hpp"

namespace mpshare::detail {

// Frame header: 24 bytes, little-endian.
//   u32 length   payload bytes following the header
//   u16 op       request: op code; reply: status (Errc, 0 = ok)
//   u16 flags    bit 0: reply
//   u64 request  request id, echoed in the reply
//   u64 object   object id (0 for manager ops), echoed in the reply
struct FrameHeader {
  std::uint32_t length = 0;
  std::uint16_t op = 0;
  std::uint16_t flags = 0;
  std::uint64_t request = 0;
  std::uint64_t object = 0;

  static constexpr std::size_t size = 24;
  static constexpr std::uint16_t reply_flag = 1;

  bool is_reply() const { return (flags & reply_flag) != 0; }
  bool operator==(const FrameHeader&) const = default;
};

void write_header(const FrameHeader& h, char* out) noexcept;
FrameHeader read_header(const char* in) noexcept;

}  // namespace mpshare::detail
