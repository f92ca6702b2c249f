#include "frame_reader.hpp"

#include <algorithm>
#include <cstring>

namespace mpshare::server {

namespace {
constexpr std::size_t min_read_buffer = 64 * 1024;
}

using detail::FrameHeader;

std::span<char> FrameReader::prepare() {
  if (end_ == in_.size()) {
    // Compact first; grow only when that frees nothing.
    if (begin_ > 0) {
      std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == in_.size()) {
      std::size_t need = min_read_buffer;
      if (end_ >= FrameHeader::size)
        need = FrameHeader::size + detail::read_header(in_.data()).length;
      std::size_t size = std::max(min_read_buffer, in_.size() * 2);
      if (need > in_.size()) size = std::min(size, need);
      in_.resize(std::max(size, in_.size() + 1));
    }
  }
  return {in_.data() + end_, in_.size() - end_};
}

void FrameReader::consume(std::size_t n) {
  begin_ += n;
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
