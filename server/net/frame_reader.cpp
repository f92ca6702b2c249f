#include "frame_reader.hpp"

#include <algorithm>
#include <cstring>

namespace mpshare::server {

namespace {
// A new connection gets room for a handshake answer and small requests;
// the buffer doubles only when a read filled it.
constexpr std::size_t first_read_buffer = 512;
// Once empty after a small frame, a buffer larger than this shrinks to it.
constexpr std::size_t kept_read_buffer = 64 * 1024;
}  // namespace

using detail::FrameHeader;

std::span<char> FrameReader::prepare() {
  // A run of large frames keeps its buffer; the first small one after it
  // gives the excess back (here, once no payload view is in use).
  if (end_ == 0 && in_.size() > kept_read_buffer && last_consumed_ <= kept_read_buffer / 2) {
    in_.resize(kept_read_buffer);
    in_.shrink_to_fit();
  }
  if (end_ == in_.size()) {
    // Compact first; grow only when that frees nothing.
    if (begin_ > 0) {
      std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == in_.size()) {
      std::size_t need = first_read_buffer;
      if (end_ >= FrameHeader::size)
        need = FrameHeader::size + detail::read_header(in_.data()).length;
      std::size_t size = std::max(first_read_buffer, in_.size() * 2);
      if (need > in_.size()) size = std::min(size, need);
      in_.resize(std::max(size, in_.size() + 1));
    }
  }
  return {in_.data() + end_, in_.size() - end_};
}

void FrameReader::consume(std::size_t n) {
  begin_ += n;
  last_consumed_ = n;
  if (begin_ == end_) begin_ = end_ = 0;
}

FrameReader::Next FrameReader::next(std::uint32_t max_frame, FrameHeader& header,
                                    std::string_view& payload) {
  const std::size_t avail = end_ - begin_;
  if (avail < FrameHeader::size) return Next::need_more;
  header = detail::read_header(in_.data() + begin_);
  if (header.length > max_frame) return Next::too_large;
  if (avail < FrameHeader::size + header.length) return Next::need_more;
  payload = std::string_view(in_.data() + begin_ + FrameHeader::size, header.length);
  consume(FrameHeader::size + header.length);
  return Next::frame;
}

}  // namespace mpshare::server
