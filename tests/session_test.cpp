// A session's framing and write queue, without sockets.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "server/net/frame_reader.hpp"
#include "server/net/write_queue.hpp"

using namespace mpshare;
using namespace mpshare::detail;

namespace {

// Copies `bytes` into the reader as a read would.
void arrive(server::FrameReader& r, std::string_view bytes) {
  while (!bytes.empty()) {
    std::span<char> into = r.prepare();
    const std::size_t n = std::min(into.size(), bytes.size());
    std::memcpy(into.data(), bytes.data(), n);
    r.commit(n);
    bytes.remove_prefix(n);
  }
}

std::string header(std::uint32_t length, std::uint64_t request) {
  std::string h(FrameHeader::size, '\0');
  write_header({length, 0x0001, 0, request, 0}, h.data());
  return h;
}

}  // namespace

TEST_CASE("session: frames are cut from bytes as they arrive, in any pieces", "[session]") {
  server::FrameReader r;
  const std::string two = header(3, 1) + "abc" + header(0, 2);
  FrameHeader h;
  std::string_view payload;
  for (char c : two.substr(0, two.size() - 1)) {
    arrive(r, std::string_view(&c, 1));
    if (r.unread().size() < FrameHeader::size + 3)
      CHECK(r.next(1024, h, payload) == server::FrameReader::Next::need_more);
  }
  REQUIRE(r.next(1024, h, payload) == server::FrameReader::Next::frame);
  CHECK(h.request == 1);
  CHECK(payload == "abc");
  CHECK(r.next(1024, h, payload) == server::FrameReader::Next::need_more);
  arrive(r, two.substr(two.size() - 1));
  REQUIRE(r.next(1024, h, payload) == server::FrameReader::Next::frame);
  CHECK(h.request == 2);
  CHECK(payload.empty());
  CHECK(r.unread().empty());
}

TEST_CASE("session: a declared length grows the buffer only as its bytes arrive", "[session]") {
  server::FrameReader r;
  FrameHeader h;
  std::string_view payload;
  arrive(r, header(0xFFFFFFF0u, 1));
  CHECK(r.next(1 << 20, h, payload) == server::FrameReader::Next::too_large);
  CHECK(h.length == 0xFFFFFFF0u);

  server::FrameReader big;
  const std::uint32_t length = 1 << 20;
  arrive(big, header(length, 2) + std::string(64 * 1024, 'x'));
  // 64 KiB arrived: room for at most twice that, not the declared MiB.
  CHECK(big.prepare().size() + big.unread().size() <= 2 * (64 * 1024 + FrameHeader::size));
  arrive(big, std::string(length - 64 * 1024, 'y'));
  REQUIRE(big.next(length, h, payload) == server::FrameReader::Next::frame);
  CHECK(payload.size() == length);
}

TEST_CASE("session: a descriptor goes out with the first byte of its reply", "[session]") {
  server::WriteQueue q;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  q.buffer() += "first";
  REQUIRE(q.attach_fd(fds[0]));
  q.buffer() += "second";
  CHECK(q.queued() == 11);

  server::WriteQueue::Chunk c = q.next();
  CHECK(c.bytes == "first");
  CHECK(c.fd == -1);
  q.buffer() += "third";  // appended while "first" is written
  q.written();

  c = q.next();
  CHECK(c.bytes == "secondthird");
  REQUIRE(c.fd >= 0);
  CHECK(c.fd != fds[0]);  // the queue's own duplicate
  const int copy = c.fd;
  q.sent_with_fd(3);
  CHECK(::fcntl(copy, F_GETFD) == -1);  // closed once sent

  c = q.next();
  CHECK(c.bytes == "ondthird");
  CHECK(c.fd == -1);
  q.written();
  CHECK(q.empty());
  CHECK(q.queued() == 0);
  ::close(fds[0]);
  ::close(fds[1]);
}
