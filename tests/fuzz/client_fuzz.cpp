// libFuzzer target: everything a client reads from a server it connects to.
// The first input byte picks the part:
//   0: reply frames: the header checks, error replies, and each op's result
//      decoded as the proxies do (op chosen by the frame's object id), then
//      the payload as user values;
//   1: the handshake: the server's hello and verdict, and (server side) the
//      client's answer.
// Any outcome but a typed mpshare::Error (or a clean decode) is a finding.
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mpshare/mpshare.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.hpp"
#include "protocol/handshake.hpp"

using namespace mpshare;
using namespace mpshare::detail;

namespace {

constexpr std::uint32_t max_frame = 1u << 20;

using DecodeFn = void (*)(ClientCore&, std::string_view);

template <class R>
void decode_as(ClientCore& core, std::string_view payload) {
  try {
    (void)core.decode_reply<R>(payload);
  } catch (const Error&) {
  }
}

constexpr DecodeFn op_results[] = {
#define MPSHARE_OP(Name, code, kinds, Result, ...) &decode_as<Result>,
#include "mpshare/detail/ops.def"
#undef MPSHARE_OP
};

// What user code stores and reads back through Dict, List and Queue.
constexpr DecodeFn user_values[] = {
    &decode_as<std::string>,
    &decode_as<std::int64_t>,
    &decode_as<double>,
    &decode_as<bool>,
    &decode_as<std::vector<std::string>>,
    &decode_as<std::vector<std::pair<std::string, std::int64_t>>>,
    &decode_as<std::map<std::string, double>>,
    &decode_as<std::optional<std::vector<bool>>>,
    &decode_as<std::variant<std::int32_t, std::string>>,
    &decode_as<std::tuple<std::uint8_t, std::string, std::deque<float>>>,
};

ClientCore& core() {
  static auto c = std::make_shared<ClientCore>(
      "unix:/nonexistent/fuzz.sock", AuthKey::from_string("0123456789abcdef"), ConnectOptions{});
  return *c;
}

void replies(std::string_view in) {
  while (in.size() >= FrameHeader::size) {
    const FrameHeader h = read_header(in.data());
    in.remove_prefix(FrameHeader::size);
    if (h.length > max_frame || !h.is_reply() || h.length > in.size()) return;
    const std::string_view payload = in.substr(0, h.length);
    in.remove_prefix(h.length);
    if (h.op != 0) {
      try {
        throw_reply_error(h.op, payload);
      } catch (const Error&) {
      }
      continue;
    }
    op_results[h.object % std::size(op_results)](core(), payload);
    user_values[h.request % std::size(user_values)](core(), payload);
  }
}

void handshake(std::string_view in) {
  const std::string key = "0123456789abcdef";
  Nonce server_nonce{}, client_nonce{};
  auto take = [&](std::size_t n) {
    std::string_view part = in.substr(0, std::min(n, in.size()));
    in.remove_prefix(part.size());
    return std::string(part).append(n - part.size(), '\0');
  };
  try {
    server_nonce = read_server_hello(take(server_hello_size));
  } catch (const Error&) {
  }
  try {
    check_server_verdict(key, server_nonce, client_nonce, take(server_verdict_size));
  } catch (const Error&) {
  }
  ServerVerdict v = server_verdict(key, server_nonce, take(client_answer_size));
  if (v.bytes.size() != server_verdict_size) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0)
    replies(in);
  else
    handshake(in);
  return 0;
}
