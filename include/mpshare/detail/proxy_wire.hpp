// How an encoded proxy is recognised inside opaque stored bytes: its
// encoding starts with `proxy_magic` (8 bytes, little-endian as Cereal's
// portable binary writes it) followed by the object id (8 bytes,
// little-endian). The server finds the proxies a stored value holds by
// looking for the marker, so that they keep their objects alive
// (docs/ARCHITECTURE.md, "Anonymous objects").
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace mpshare::detail {

inline constexpr std::uint64_t proxy_magic = 0xA758'5250'7370'6DF5ULL;

// The first marker in `bytes` with 8 bytes after it, or nullptr.
inline const unsigned char* find_proxy_marker(std::string_view bytes) {
  unsigned char marker[8];
  for (int i = 0; i < 8; ++i) marker[i] = static_cast<unsigned char>(proxy_magic >> (8 * i));
  if (bytes.size() < 16) return nullptr;
  return static_cast<const unsigned char*>(
      ::memmem(bytes.data(), bytes.size() - 8, marker, sizeof marker));
}

// Whether `bytes` holds anything that looks like a proxy.
inline bool has_proxy_marker(std::string_view bytes) {
  return find_proxy_marker(bytes) != nullptr;
}

// Calls f(id) for each marker in `bytes` that has 8 bytes after it, in
// order. Bytes that merely look like a proxy are reported too: callers check
// the id.
template <class F>
void for_each_proxy_id(std::string_view bytes, F&& f) {
  const auto* end = reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size());
  while (const unsigned char* h = find_proxy_marker(bytes)) {
    std::uint64_t id = 0;
    for (int i = 0; i < 8; ++i) id |= static_cast<std::uint64_t>(h[8 + i]) << (8 * i);
    f(id);
    const auto* next = h + 8;
    bytes =
        std::string_view(reinterpret_cast<const char*>(next), static_cast<std::size_t>(end - next));
  }
}

}  // namespace mpshare::detail
