#include "protocol/frame.hpp"

#include <string>

namespace mpshare::detail {

namespace {
template <class T>
void put_le(char* out, T v) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
template <class T>
T get_le(const char* in) noexcept {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<T>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}
}  // namespace

void write_header(const FrameHeader& h, char* out) noexcept {
  put_le(out, h.length);
  put_le(out + 4, h.op);
  put_le(out + 6, h.flags);
  put_le(out + 8, h.request);
  put_le(out + 16, h.object);
}

FrameHeader read_header(const char* in) noexcept {
  return FrameHeader{get_le<std::uint32_t>(in), get_le<std::uint16_t>(in + 4),
                     get_le<std::uint16_t>(in + 6), get_le<std::uint64_t>(in + 8),
                     get_le<std::uint64_t>(in + 16)};
}

std::size_t frame_begin(std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + FrameHeader::size);
  return start;
}

void frame_end(std::string& out, std::size_t start, std::uint16_t op_or_status, std::uint16_t flags,
               std::uint64_t request, std::uint64_t object) noexcept {
  FrameHeader h{static_cast<std::uint32_t>(out.size() - start - FrameHeader::size), op_or_status,
                flags, request, object};
  write_header(h, out.data() + start);
}

}  // namespace mpshare::detail
