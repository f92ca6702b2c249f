// What the public proxy templates need of the wire: object kinds, the op
// structs generated from ops.def, the messages they carry, and building a
// frame around an encoded payload. The frame layout, the handshake and
// address parsing are private (protocol/). docs/PROTOCOL.md specifies every
// byte.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "mpshare/codec.hpp"
#include "mpshare/detail/task_wire.hpp"
#include "mpshare/introspect.hpp"

namespace mpshare {

// Kinds of shared objects (kinds.def). Values are fixed on the wire.
enum class Kind : std::uint8_t {
  none = 0,
#define MPSHARE_KIND(name, code, family) name = code,
#include "mpshare/detail/kinds.def"
#undef MPSHARE_KIND
};

std::string_view kind_name(Kind k) noexcept;

template <>
struct detail::EnumLimit<Kind> {
  static constexpr Kind max = std::max({Kind::none
#define MPSHARE_KIND(name, code, family) , Kind::name
#include "mpshare/detail/kinds.def"
#undef MPSHARE_KIND
  });
};

// One entry of Manager::objects().
struct ObjectInfo {
  std::string name;
  Kind kind = Kind::none;
  std::string type;        // type signature, e.g. "dict<string,int64>"
  std::uint64_t size = 0;  // items, waiters or bytes, by kind

  template <class Ar>
  void serialize(Ar& ar) {
    ar(name, kind, type, size);
  }
  bool operator==(const ObjectInfo&) const = default;
};

// What acquiring a Lock or RLock returns. `token` is a fencing token:
// strictly increasing for each lock and never reused while the server runs.
// `previous_owner_died`: the last holder's connection closed while holding it.
struct Grant {
  std::uint64_t token = 0;
  bool previous_owner_died = false;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(token, previous_owner_died);
  }
  bool operator==(const Grant&) const = default;
};

// Who holds a Lock, RLock or Condition's lock (Lock::owner()): the server's
// id of the holding connection, the holder's process id when it connected
// over a Unix socket (0 otherwise: the server cannot know it), and how
// many times it holds it (an RLock's recursion level).
struct LockOwner {
  std::uint64_t session = 0;
  std::int64_t pid = 0;
  std::uint32_t levels = 0;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(session, pid, levels);
  }
  bool operator==(const LockOwner&) const = default;
};

namespace detail {

constexpr std::uint32_t kind_bit(Kind k) {
  return 1u << static_cast<unsigned>(k);
}

// Bit mask of kinds an op applies to: KindMask::dict, KindMask::queue, ...
struct KindMask {
  static constexpr std::uint32_t bit(Kind k) { return kind_bit(k); }
  static constexpr std::uint32_t none = 0;
#define MPSHARE_KIND(name, code, family)                              \
  static_assert((code) > 0 && (code) < 32, "kind code out of range"); \
  static constexpr std::uint32_t name = kind_bit(Kind::name);
#include "mpshare/detail/kinds.def"
#undef MPSHARE_KIND
};

using BytesList = std::vector<Bytes>;
using BytesPair = std::pair<Bytes, Bytes>;
using BytesPairs = std::vector<BytesPair>;
using ObjectInfos = std::vector<ObjectInfo>;

// The empty result.
struct Unit {
  template <class Ar>
  void serialize(Ar&) {}
};

// Timeouts of blocking ops on the wire are nanoseconds: wait_forever waits
// until answered (or the connection closes), 0 does not wait.
inline constexpr std::int64_t wait_forever = -1;
// BarrierWait only: wait as long as the barrier's default timeout.
inline constexpr std::int64_t wait_default = -2;

// Reply to BarrierWait: the caller's arrival index (0 for the first).
// `run_action`: the caller arrived last at a barrier created with an
// action; it must run it and report with BarrierActionDone, and until
// then the other parties stay parked.
struct BarrierTurn {
  std::uint64_t index = 0;
  bool run_action = false;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(index, run_action);
  }
  bool operator==(const BarrierTurn&) const = default;
};

// State of a Queue or JoinableQueue (op QueueInfo).
struct QueueStatus {
  std::uint64_t size = 0;        // items held
  std::uint64_t maxsize = 0;     // 0: unbounded
  std::uint64_t unfinished = 0;  // JoinableQueue: items put and not yet task_done()
  std::uint64_t getters = 0;     // parked get calls
  std::uint64_t putters = 0;     // parked put calls
  std::uint64_t joiners = 0;     // parked join calls
  bool shut_down = false;        // shutdown() was called

  template <class Ar>
  void serialize(Ar& ar) {
    ar(size, maxsize, unfinished, getters, putters, joiners, shut_down);
  }
  bool operator==(const QueueStatus&) const = default;
};

// Value/Array: what the opener asks for (OpenRequest::params). Elements
// are `count` items of `elem_size` bytes in native representation; reopening
// with another layout is a TypeMismatch, another `initial` is not.
struct SharedSpec {
  std::uint64_t elem_size = 0;
  std::uint64_t elem_align = 0;  // of each element slot in the mapping
  std::uint64_t count = 0;
  bool lock_free = false;  // single-element ops are lock-free atomics, not locked
  bool little_endian = true;
  Bytes initial;  // count * elem_size bytes, or empty for zeros

  template <class Ar>
  void serialize(Ar& ar) {
    ar(elem_size, elem_align, count, lock_free, little_endian, initial);
  }
};

// Value/Array: reply to SharedAttach. Offsets are from the segment's start;
// fd_passed says whether the segment's descriptor came with the reply.
struct SharedLayout {
  std::uint64_t count = 0;
  std::uint64_t elem_size = 0;
  bool lock_free = false;
  bool fd_passed = false;
  std::uint64_t segment_size = 0;
  std::uint64_t mutex_offset = 0;
  std::uint64_t data_offset = 0;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(count, elem_size, lock_free, fd_passed, segment_size, mutex_offset, data_offset);
  }
};

// Value/Array: reply to SharedLock: the whole contents, and whether the
// lock's previous owner died holding it.
struct SharedLocked {
  bool owner_died = false;
  Bytes data;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(owner_died, data);
  }
};

// Create-or-open by name (an empty name creates an anonymous object).
// `params` is kind-specific (queue maxsize, semaphore value, ...), encoded
// by the kind's proxy; reopening with different params is a TypeMismatch.
struct OpenRequest {
  std::string name;
  Kind kind = Kind::none;
  std::string type;
  ValueCode value_code = ValueCode::opaque;
  Bytes params;

  template <class Ar>
  void serialize(Ar& ar) {
    ar(name, kind, type, value_code, params);
  }
};

struct OpenReply {
  std::uint64_t object_id = 0;
  bool created = false;
  Bytes params;  // kind-specific state for the proxy (e.g. shared memory layout)

  template <class Ar>
  void serialize(Ar& ar) {
    ar(object_id, created, params);
  }
};

// Generated op structs: op::Name{code, kinds, Result, Args}.
namespace op {
#define MPSHARE_OP(Name, code_, kinds_, Result_, ...) \
  struct Name {                                       \
    static constexpr std::uint16_t code = code_;      \
    static constexpr std::uint32_t kinds = kinds_;    \
    static constexpr const char* name = #Name;        \
    using Result = Result_;                           \
    using Args = std::tuple<__VA_ARGS__>;             \
  };
#include "mpshare/detail/ops.def"
#undef MPSHARE_OP
}  // namespace op

// Name of an op code, or nullptr when unknown.
const char* op_name(std::uint16_t code) noexcept;

// Throws the typed error of a failed reply: `status` is its Errc, `payload`
// the encoded message.
[[noreturn]] void throw_reply_error(std::uint16_t status, std::string_view payload);

// Largest frame accepted by default.
inline constexpr std::uint32_t default_max_frame = 256u * 1024 * 1024;

// Frame building: frame_begin reserves a header at the end of `out` and
// returns where it starts; once the payload is appended after it,
// frame_end fills the header in.
std::size_t frame_begin(std::string& out);
void frame_end(std::string& out, std::size_t start, std::uint16_t op_or_status, std::uint16_t flags,
               std::uint64_t request, std::uint64_t object) noexcept;

// Appends a whole frame (header + payload archive of `args...`) to `out`.
template <class... A>
void append_frame(std::string& out, std::uint16_t op_or_status, std::uint16_t flags,
                  std::uint64_t request, std::uint64_t object, const A&... args) {
  const std::size_t start = frame_begin(out);
  encode_into(out, args...);
  frame_end(out, start, op_or_status, flags, request, object);
}

}  // namespace detail
}  // namespace mpshare
