// The dispatcher without sockets: raw request frames in, reply bytes out,
// checked byte for byte, against real objects in a real registry.
#include "server/dispatch.hpp"

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>

#include "server/registry.hpp"

using namespace mpshare;
using namespace mpshare::detail;
using namespace std::chrono_literals;

namespace {

// A session whose replies stay in out() for the test to read.
class BufferSession final : public server::SessionBase {
 public:
  using SessionBase::SessionBase;
  std::string& out() override { return out_; }
  void flush() override {}
  void stop() override { stopped = true; }
  void close() { closed_ = true; }
  // Everything replied since the last call.
  std::string take() { return std::exchange(out_, {}); }
  bool stopped = false;

 private:
  std::string out_;
};

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

template <class... A>
std::string frame(std::uint16_t op, std::uint64_t request, std::uint64_t object, const A&... args) {
  std::string f;
  append_frame(f, op, 0, request, object, args...);
  return f;
}

template <class... A>
std::string reply(Errc status, std::uint64_t request, std::uint64_t object, const A&... result) {
  std::string f;
  append_frame(f, static_cast<std::uint16_t>(status), FrameHeader::reply_flag, request, object,
               result...);
  return f;
}

struct Harness {
  asio::io_context io;
  server::Registry registry{io};
  bool stop_requested = false;
  server::Dispatcher dispatcher{registry, [this] { stop_requested = true; }};
  std::shared_ptr<BufferSession> a = std::make_shared<BufferSession>(1);
  std::shared_ptr<BufferSession> b = std::make_shared<BufferSession>(2);

  // Feeds raw bytes holding whole frames, as a session would after reading
  // them; returns what `s` was answered.
  std::string feed(const std::shared_ptr<BufferSession>& s, std::string_view raw) {
    while (!raw.empty()) {
      REQUIRE(raw.size() >= FrameHeader::size);
      FrameHeader h = read_header(raw.data());
      REQUIRE(raw.size() >= FrameHeader::size + h.length);
      dispatcher.dispatch(s, h, raw.substr(FrameHeader::size, h.length));
      raw.remove_prefix(FrameHeader::size + h.length);
    }
    return s->take();
  }

  std::uint64_t open(Kind kind, const std::string& name, Bytes params = {}) {
    OpenRequest req{name, kind, "t", ValueCode::opaque, std::move(params)};
    std::string r = feed(a, frame(op::Open::code, 1, 0, req));
    REQUIRE(read_header(r.data()).op == 0);
    return decode<OpenReply>(std::string_view(r).substr(FrameHeader::size)).object_id;
  }

  // Runs the event loop until `s` has been answered or 5 s pass.
  std::string await(const std::shared_ptr<BufferSession>& s) {
    auto until = std::chrono::steady_clock::now() + 5s;
    while (s->out().empty() && std::chrono::steady_clock::now() < until) io.run_one_for(10ms);
    return s->take();
  }
};

std::string error_text(const std::string& reply) {
  return decode<std::string>(std::string_view(reply).substr(FrameHeader::size));
}

}  // namespace

TEST_CASE("dispatch: a ping is answered with an empty ok reply, byte for byte", "[dispatch]") {
  Harness h;
  // Header: length 1, op Ping, no flags, request 7, object 0; then the
  // payload, an empty archive: its endianness tag.
  std::string request =
      bytes({1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  // The reply: status 0 and the reply flag in place of op and flags.
  CHECK(h.feed(h.a, request) ==
        bytes({1, 0, 0, 0, 0, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST_CASE("dispatch: dict set then get, replies in request order", "[dispatch]") {
  Harness h;
  const std::uint64_t d = h.open(Kind::dict, "d");
  const Bytes k = encode(std::string("k")), v = encode(std::int64_t{5});
  std::string pipelined = frame(op::DictSet::code, 2, d, k, v) + frame(op::DictGet::code, 3, d, k);
  CHECK(h.feed(h.a, pipelined) == reply(Errc::ok, 2, d, Unit{}) + reply(Errc::ok, 3, d, v));
}

TEST_CASE("dispatch: bad requests get typed error replies and change nothing", "[dispatch]") {
  Harness h;
  const std::uint64_t d = h.open(Kind::dict, "d");
  const std::uint64_t l = h.open(Kind::list, "l");
  const Bytes k = encode(std::string("k"));

  std::string r = h.feed(h.a, frame(0x0FFE, 4, 0));
  CHECK(read_header(r.data()) == FrameHeader{static_cast<std::uint32_t>(r.size() - 24),
                                             static_cast<std::uint16_t>(Errc::protocol_error),
                                             FrameHeader::reply_flag, 4, 0});
  CHECK(error_text(r) == "unknown op 0xffe");

  r = h.feed(h.a, frame(op::DictGet::code, 5, 999, k));
  CHECK(read_header(r.data()).op == static_cast<std::uint16_t>(Errc::no_such_object));
  CHECK(error_text(r) == "DictGet: no object with id 999");

  r = h.feed(h.a, frame(op::DictGet::code, 6, l, k));
  CHECK(read_header(r.data()).op == static_cast<std::uint16_t>(Errc::type_mismatch));
  CHECK(error_text(r) == "DictGet does not apply to 'l', a list");

  r = h.feed(h.a, frame(op::DictSet::code, 7, d, k));  // one argument short
  CHECK(read_header(r.data()).op == static_cast<std::uint16_t>(Errc::protocol_error));

  r = h.feed(h.a, frame(op::DictGet::code, 8, d, k));
  CHECK(read_header(r.data()).op == static_cast<std::uint16_t>(Errc::key_error));
  CHECK(h.feed(h.a, frame(op::DictSize::code, 9, d)) == reply(Errc::ok, 9, d, std::uint64_t{0}));
}

TEST_CASE("dispatch: a parked wait is answered when another session acts", "[dispatch]") {
  Harness h;
  const std::uint64_t e = h.open(Kind::event, "e");
  CHECK(h.feed(h.a, frame(op::EventWait::code, 10, e, wait_forever)).empty());
  CHECK(h.feed(h.b, frame(op::EventSet::code, 11, e)) == reply(Errc::ok, 11, e, Unit{}));
  CHECK(h.a->take() == reply(Errc::ok, 10, e, true));
}

TEST_CASE("dispatch: a parked wait times out on the event loop", "[dispatch]") {
  Harness h;
  const std::uint64_t e = h.open(Kind::event, "e");
  const std::int64_t ms = 1'000'000;
  CHECK(h.feed(h.a, frame(op::EventWait::code, 12, e, 20 * ms)).empty());
  CHECK(h.await(h.a) == reply(Errc::ok, 12, e, false));
}

TEST_CASE("dispatch: a closed session's lock passes to the next waiter", "[dispatch]") {
  Harness h;
  const std::uint64_t lk = h.open(Kind::lock, "L");
  std::string r = h.feed(h.a, frame(op::LockAcquire::code, 13, lk, wait_forever));
  REQUIRE(read_header(r.data()).op == 0);
  CHECK(h.feed(h.b, frame(op::LockAcquire::code, 14, lk, wait_forever)).empty());
  h.a->close();
  h.registry.on_disconnect(h.a->id());
  r = h.b->take();
  REQUIRE(read_header(r.data()).op == 0);
  auto grant = decode<std::optional<Grant>>(std::string_view(r).substr(FrameHeader::size));
  REQUIRE(grant);
  CHECK(grant->previous_owner_died);
}

TEST_CASE("dispatch: removing an object fails its parked waits", "[dispatch]") {
  Harness h;
  const std::uint64_t q = h.open(Kind::queue, "q");
  CHECK(h.feed(h.a, frame(op::QueueGet::code, 15, q, std::uint64_t{1}, wait_forever)).empty());
  CHECK(h.feed(h.b, frame(op::Remove::code, 16, 0, std::string("q"))) ==
        reply(Errc::ok, 16, 0, Unit{}));
  CHECK(h.a->take() == reply(Errc::no_such_object, 15, q, std::string("'q' was removed")));
}

TEST_CASE("dispatch: shutdown asks the server to stop, waits then fail as connection lost",
          "[dispatch]") {
  Harness h;
  const std::uint64_t e = h.open(Kind::event, "e");
  CHECK(h.feed(h.a, frame(op::EventWait::code, 17, e, wait_forever)).empty());
  CHECK(h.feed(h.b, frame(op::Shutdown::code, 18, 0)) == reply(Errc::ok, 18, 0, Unit{}));
  CHECK(h.stop_requested);
  h.registry.shutdown();
  CHECK(h.a->take() ==
        reply(Errc::connection_lost, 17, e, std::string("the server is shutting down")));
}
