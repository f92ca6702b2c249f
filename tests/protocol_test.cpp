// The wire, byte for byte (docs/PROTOCOL.md).
#include <catch2/catch.hpp>
#include <mpshare/detail/protocol.hpp>
#include <sstream>

#include "protocol/address.hpp"
#include "protocol/frame.hpp"
#include "protocol/handshake.hpp"

using namespace mpshare;
using namespace mpshare::detail;

namespace {
std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}
std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}
}  // namespace

TEST_CASE("protocol: header layout is 24 little-endian bytes", "[protocol]") {
  FrameHeader h{0x11223344, 0x0102, FrameHeader::reply_flag, 0x0807060504030201ull, 42};
  char out[FrameHeader::size];
  write_header(h, out);
  CHECK(std::string(out, sizeof out) ==
        bytes({0x44, 0x33, 0x22, 0x11, 0x02, 0x01, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04,
               0x05, 0x06, 0x07, 0x08, 42,   0,    0,    0,    0,    0,    0,    0}));
  CHECK(read_header(out) == h);
  CHECK(read_header(out).is_reply());
}

TEST_CASE("protocol: a DictSet request frame, byte for byte", "[protocol]") {
  std::string frame;
  append_frame(frame, op::DictSet::code, 0, 7, 3, encode(std::string("k")),
               encode(std::int64_t{5}));
  const std::string key = bytes({1, 1, 0, 0, 0, 0, 0, 0, 0, 'k'});  // endian tag, u64 size, data
  const std::string value = bytes({1, 5, 0, 0, 0, 0, 0, 0, 0});     // endian tag, i64
  const std::string expected =
      bytes({36, 0, 0, 0, 0x01, 0x01, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}) +
      bytes({1}) + bytes({10, 0, 0, 0, 0, 0, 0, 0}) + key + bytes({9, 0, 0, 0, 0, 0, 0, 0}) + value;
  CHECK(frame == expected);
}

TEST_CASE("protocol: an error reply carries the status and a message", "[protocol]") {
  std::string frame;
  append_frame(frame, static_cast<std::uint16_t>(Errc::key_error), FrameHeader::reply_flag, 9, 3,
               std::string("no"));
  CHECK(frame == bytes({11, 0, 0, 0, 1, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0,   3,  0,
                        0,  0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 'n', 'o'}));
}

TEST_CASE("protocol: op codes and status codes are fixed", "[protocol]") {
  CHECK(op::Ping::code == 0x0001);
  CHECK(op::Open::code == 0x0002);
  CHECK(op::DictSet::code == 0x0101);
  CHECK(op::DictIncrement::code == 0x0109);
  CHECK(op::ListAppend::code == 0x0201);
  CHECK(std::string(op_name(0x0101)) == "DictSet");
  CHECK(op_name(0x0FFF) == nullptr);
  CHECK(static_cast<int>(Errc::key_error) == 1);
  CHECK(static_cast<int>(Errc::protocol_error) == 8);
  CHECK(static_cast<int>(Kind::dict) == 1);
  CHECK(static_cast<int>(Kind::array) == 13);
}

TEST_CASE("protocol: handshake MACs are HMAC-SHA-256 over label and both nonces", "[protocol]") {
  unsigned char server_nonce[nonce_size], client_nonce[nonce_size];
  std::fill(std::begin(server_nonce), std::end(server_nonce), 0x01);
  std::fill(std::begin(client_nonce), std::end(client_nonce), 0x02);
  auto c = handshake_mac("secret", "mpshare-client", server_nonce, client_nonce);
  auto s = handshake_mac("secret", "mpshare-server", server_nonce, client_nonce);
  CHECK(hex(c.data(), c.size()) ==
        "b868a4e99738d20b425d67451869086e55cac495c60b8b00189544dbf7ccfba9");
  CHECK(hex(s.data(), s.size()) ==
        "372a51eb78f75aaee9115c4f02f5487ea7d2a52451d876a2dcb1527ff3b9352c");
  CHECK(mac_equal(c.data(), c.data()));
  CHECK_FALSE(mac_equal(c.data(), s.data()));
}

TEST_CASE("protocol: the handshake's three messages, byte for byte", "[protocol]") {
  Nonce sn, cn;
  sn.fill(0x01);
  cn.fill(0x02);
  std::string hello = server_hello(sn);
  CHECK(hello == bytes({'M', 'P', 'S', 'H', 1, 0, 0, 0}) + std::string(32, '\x01'));
  CHECK(read_server_hello(hello) == sn);
  CHECK_THROWS_AS(read_server_hello("HTTP" + hello.substr(4)), ProtocolError);
  CHECK_THROWS_AS(read_server_hello(hello.substr(0, 4) + bytes({2, 0}) + hello.substr(6)),
                  ProtocolError);

  std::string answer = client_answer("secret", sn, cn);
  REQUIRE(answer.size() == client_answer_size);
  CHECK(answer.substr(0, 32) == std::string(32, '\x02'));
  CHECK(hex(reinterpret_cast<const unsigned char*>(answer.data()) + 32, 32) ==
        "b868a4e99738d20b425d67451869086e55cac495c60b8b00189544dbf7ccfba9");

  ServerVerdict ok = server_verdict("secret", sn, answer);
  CHECK(ok.accepted);
  CHECK(ok.bytes.substr(0, 8) == std::string(8, '\0'));
  CHECK(hex(reinterpret_cast<const unsigned char*>(ok.bytes.data()) + 8, 32) ==
        "372a51eb78f75aaee9115c4f02f5487ea7d2a52451d876a2dcb1527ff3b9352c");
  CHECK_NOTHROW(check_server_verdict("secret", sn, cn, ok.bytes));
  CHECK_THROWS_AS(check_server_verdict("other", sn, cn, ok.bytes), AuthError);

  ServerVerdict refused = server_verdict("other", sn, answer);
  CHECK_FALSE(refused.accepted);
  CHECK(refused.bytes == bytes({4}) + std::string(server_verdict_size - 1, '\0'));
  CHECK_THROWS_AS(check_server_verdict("secret", sn, cn, refused.bytes), AuthError);
  CHECK_FALSE(server_verdict("secret", sn, answer.substr(1)).accepted);
}

TEST_CASE("codec: the encoding is Cereal's portable binary, both ways", "[protocol]") {
  using Value = std::tuple<std::string, std::vector<std::int32_t>, std::map<std::string, double>,
                           std::optional<std::uint16_t>, bool>;
  Value v{"text", {1, -2, 3}, {{"pi", 3.14159}}, std::uint16_t{7}, true};
  std::ostringstream os;
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(v);
  }
  CHECK(encode(v) == os.str());
  CHECK(decode<std::vector<std::string>>(encode(std::vector<std::string>{})).empty());
  CHECK(decode<std::string>(encode(std::string())).empty());
  CHECK(decode<Value>(os.str()) == v);
}

TEST_CASE("protocol: addresses parse", "[protocol]") {
  auto u = parse_address("unix:/tmp/x.sock");
  CHECK(u.type == Address::Type::unix_socket);
  CHECK(u.path == "/tmp/x.sock");
  auto t = parse_address("tcp://[::1]:7878");
  CHECK(t.type == Address::Type::tcp);
  CHECK(t.host == "::1");
  CHECK(t.port == 7878);
  auto s = parse_address("tls://hub.example:7879");
  CHECK(s.type == Address::Type::tls);
  CHECK(s.host == "hub.example");
  CHECK(s.port == 7879);
  CHECK_THROWS_AS(parse_address("tcp://host"), std::invalid_argument);
  CHECK_THROWS_AS(parse_address("tcp://host:99999"), std::invalid_argument);
  CHECK_THROWS_AS(parse_address("http://x"), std::invalid_argument);
}

TEST_CASE("codec: type signatures name element types", "[protocol]") {
  CHECK(type_name<std::int64_t>() == "int64");
  CHECK(type_name<std::vector<std::string>>() == "vector<string>");
  CHECK((type_name<std::map<std::string, double>>()) == "map<string,float64>");
  CHECK((type_name<std::pair<int, bool>>()) == "pair<int32,bool>");
  CHECK_THROWS_AS(decode<std::int64_t>(std::string("\x01\x05", 2)), ProtocolError);
  CHECK_THROWS_AS(decode<std::int64_t>(encode(std::int64_t{5}) + "x"), ProtocolError);
  // Declared sizes beyond the bytes present are refused before allocating.
  std::string lying_count;
  encode_into(lying_count, std::uint64_t{1} << 40);
  CHECK_THROWS_AS(decode<std::vector<std::int64_t>>(lying_count), ProtocolError);
  CHECK_THROWS_AS(decode<std::string>(lying_count + "abc"), ProtocolError);
  CHECK(decode<std::vector<std::string>>(encode(std::vector<std::string>{"a", "bc"})) ==
        std::vector<std::string>{"a", "bc"});
}
