// What every proxy is: (client core, object id, name). Proxies are cheap
// copyable values, safe to use from many threads, and serializable: a proxy
// stored in a Dict/List/Queue or sent to another process attaches, on
// decoding, to the server the decoding proxy talks to.
//
// A proxy of an anonymous object holds this process's reference to it
// (ObjectRef): the rules are in mpshare/manager.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mpshare/detail/client.hpp"
#include "mpshare/detail/proxy_wire.hpp"
#include "mpshare/detail/wait.hpp"

namespace mpshare::detail {

// This process's reference to an anonymous object, shared by all its
// proxies here; the last one to go gives the reference back.
class ObjectRef;

// The reference for a proxy of anonymous object `id` of `core`'s server,
// counting `handed` references the server has just handed this process.
std::shared_ptr<const ObjectRef> adopt_reference(const std::shared_ptr<ClientCore>& core,
                                                 std::uint64_t id, std::uint64_t handed);

class ProxyBase {
 public:
  ProxyBase() = default;
  ProxyBase(std::shared_ptr<ClientCore> core, std::uint64_t id, std::string name)
      : core_(std::move(core)), id_(id), name_(std::move(name)) {}

  std::uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  bool valid() const { return core_ != nullptr; }
  ClientCore& core() const { return *core_; }
  const std::shared_ptr<ClientCore>& core_ptr() const { return core_; }

  // Encoded as (proxy_magic, id, address, name): the server recognises
  // stored proxies by the marker (proxy_wire.hpp).
  template <class Ar>
  void save(Ar& ar) const {
    ar(proxy_magic, id_, core_ ? core_->address() : std::string(), name_);
  }
  template <class Ar>
  void load(Ar& ar) {
    std::uint64_t magic = 0;
    std::string address;
    ar(magic, id_, address, name_);
    if (magic != proxy_magic) throw ProtocolError("cannot decode a proxy: bad marker");
    ClientCore* ctx = ClientCore::decode_context();
    ref_.reset();
    if (address.empty()) {
      core_.reset();
    } else if (ctx == nullptr) {
      throw ValueError("a proxy can only be decoded by an mpshare call");
    } else {
      core_ = ctx->for_address(address);
      // The server that sent these bytes handed this process a reference
      // when they name one of its own anonymous objects.
      if (is_anonymous()) ref_ = adopt_reference(core_, id_, ctx->address() == address ? 1 : 0);
    }
  }

  // Whether the object is anonymous (freed once unreferenced).
  bool is_anonymous() const { return !name_.empty() && name_.front() == '@'; }
  // For Manager: this process holds the reference its creation gave.
  void adopt_created_reference() {
    if (core_ && is_anonymous()) ref_ = adopt_reference(core_, id_, 1);
  }

 protected:
  // Decodes a stored value; proxies inside it attach to this proxy's server.
  template <class T>
  T decode_value(std::string_view bytes) const {
    DecodeContextScope scope(core_.get());
    return decode<T>(bytes);
  }
  template <class T>
  std::vector<T> decode_all(const BytesList& in) const {
    std::vector<T> out;
    out.reserve(in.size());
    DecodeContextScope scope(core_.get());
    for (const auto& b : in) out.push_back(decode<T>(b));
    return out;
  }
  // One call on this proxy's object with the default deadline.
  template <class Op, class... A>
  typename Op::Result call(const A&... args) const {
    return checked_core().template call<Op>(id_, args...);
  }

  // A blocking call whose last wire argument is its timeout (wait_forever or
  // nanoseconds): the server may park it that long.
  template <class Op, class... A>
  typename Op::Result call_waiting(std::int64_t timeout_ns, const A&... args) const {
    return checked_core().template call_wait<Op>(id_, server_wait(timeout_ns), args..., timeout_ns);
  }

  // Throws StateError when default-constructed.
  ClientCore& checked_core() const {
    if (!core_) throw StateError("use of an empty proxy");
    return *core_;
  }

  std::shared_ptr<ClientCore> core_;
  std::uint64_t id_ = 0;
  std::string name_;
  std::shared_ptr<const ObjectRef> ref_;  // anonymous objects only
};

// Opens (creates or attaches to) a named object; an empty name creates an
// anonymous one. Returns the reply (object id, kind-specific params).
OpenReply open_object(ClientCore& core, const std::string& name, Kind kind, const std::string& type,
                      ValueCode code, const Bytes& params);

}  // namespace mpshare::detail
