// Batch: pipelined calls. Operations added to a batch are encoded at once;
// run() sends them all in one write on the calling thread's connection and
// reads all their replies together, like Redis pipelining. Each add returns a
// BatchResult, read after run(): its value, or the operation's own typed
// error (KeyError, IndexError, ...) thrown by get(). One item's error does
// not affect the others; the server applies the operations in the order they
// were added, each atomically, but other clients' operations may interleave.
//
//   mpshare::Batch b(mgr);
//   for (int i = 0; i < 100; ++i) b.set(scores, "k" + std::to_string(i), i);
//   auto old = b.get(scores, "k7");
//   auto n = b.increment(scores, "hits", 1);
//   b.run();
//   std::int64_t v = old.get();
//
// Thread safety: a Batch is used by one thread at a time; its results may be
// read from any thread once run() has returned. All objects of a batch must
// belong to one server. Operations that block (Queue::get, Lock::acquire)
// may be added through call<Op>() but the batch's run() then waits for them,
// within the connection's call_timeout for the whole batch: give them a
// shorter server-side timeout, or run() throws Timeout.
// A connection loss or timeout during run() throws from run() (ConnectionLost,
// Timeout); the results are then unset and get() throws StateError. After
// run() the batch is empty and may be filled again; old results stay valid.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mpshare/detail/client.hpp"
#include "mpshare/detail/proxy.hpp"
#include "mpshare/dict.hpp"
#include "mpshare/list.hpp"
#include "mpshare/manager.hpp"

namespace mpshare {

namespace detail {

// The replies of one run of a batch, shared by its results.
struct BatchReplies {
  std::shared_ptr<ClientCore> core;
  std::string payloads;
  std::vector<ClientCore::Reply> replies;
  bool ran = false;

  // The payload of reply i; throws its typed error when it failed.
  std::string_view ok_payload(std::size_t i) const {
    if (!ran) throw StateError("batch result read before the batch ran");
    const auto& r = replies[i];
    std::string_view payload(payloads.data() + r.offset, r.length);
    if (r.status != 0) throw_reply_error(r.status, payload);
    return payload;
  }
};

}  // namespace detail

// The outcome of one batched operation. A cheap copyable handle; it keeps
// the batch's replies alive.
template <class T>
class BatchResult {
 public:
  using Decode = T (*)(detail::ClientCore&, std::string_view);

  BatchResult() = default;
  BatchResult(std::shared_ptr<const detail::BatchReplies> replies, std::size_t index, Decode fn)
      : replies_(std::move(replies)), index_(index), decode_(fn) {}

  // Whether the batch has run (the result, or its error, is available).
  bool ready() const { return replies_ && replies_->ran; }
  // True when the operation failed; StateError before the batch ran.
  bool failed() const {
    if (!ready()) throw StateError("batch result read before the batch ran");
    return replies_->replies[index_].status != 0;
  }
  // The result; throws the operation's typed error, or StateError when the
  // batch has not run.
  T get() const {
    if (!replies_) throw StateError("empty batch result");
    std::string_view payload = replies_->ok_payload(index_);
    return decode_(*replies_->core, payload);
  }

 private:
  std::shared_ptr<const detail::BatchReplies> replies_;
  std::size_t index_ = 0;
  Decode decode_ = nullptr;
};

class Batch {
 public:
  // A batch on the Manager's server, or on the server of the first proxy added.
  Batch() = default;
  explicit Batch(const Manager& manager) : core_(manager.core()) {}
  explicit Batch(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  // Any op of the table on `object`: the result is the op's raw Result.
  template <class Op, class... A>
  BatchResult<typename Op::Result> call(const detail::ProxyBase& object, const A&... args) {
    return add<Op, typename Op::Result>(object, &decode_result<typename Op::Result>, args...);
  }

  template <class K, class V>
  BatchResult<void> set(Dict<K, V>& d, const K& key, const V& value) {
    return add<detail::op::DictSet, void>(d, &decode_unit, encode(key), encode(value));
  }
  template <class K, class V>
  BatchResult<V> get(const Dict<K, V>& d, const K& key) {
    return add<detail::op::DictGet, V>(d, &decode_stored<V>, encode(key));
  }
  template <class K, class V>
  BatchResult<std::optional<V>> find(const Dict<K, V>& d, const K& key) {
    return add<detail::op::DictFind, std::optional<V>>(d, &decode_optional<V>, encode(key));
  }
  template <class K, class V>
  BatchResult<bool> contains(const Dict<K, V>& d, const K& key) {
    return add<detail::op::DictContains, bool>(d, &decode_result<bool>, encode(key));
  }
  template <class K, class V>
  BatchResult<bool> erase(Dict<K, V>& d, const K& key) {
    return add<detail::op::DictErase, bool>(d, &decode_result<bool>, encode(key));
  }
  template <class K, class V>
  BatchResult<V> increment(Dict<K, V>& d, const K& key,
                           const V& delta = V{1}) requires is_arithmetic_value<V> {
    return add<detail::op::DictIncrement, V>(d, &decode_stored<V>, encode(key), encode(delta));
  }
  template <class T>
  BatchResult<void> append(List<T>& l, const T& value) {
    return add<detail::op::ListAppend, void>(l, &decode_unit, encode(value));
  }
  template <class T>
  BatchResult<T> at(const List<T>& l, std::int64_t i) {
    return add<detail::op::ListGet, T>(l, &decode_stored<T>, i);
  }
  template <class T>
  BatchResult<T> pop(List<T>& l, std::int64_t i = -1) {
    return add<detail::op::ListPop, T>(l, &decode_stored<T>, i);
  }

  // Operations added and not yet run.
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // Sends every added operation in one write and reads all replies. An
  // empty batch does nothing. Throws ConnectionLost / Timeout (deadline: the
  // connection's call timeout, for the whole batch).
  void run() {
    if (count_ == 0) return;
    auto replies = std::move(replies_);
    std::string frames = std::move(frames_);
    count_ = 0;
    frames_.clear();
    core_->exchange_batch(std::move(frames), detail::Deadline::after(core_->options().call_timeout),
                          replies->payloads, replies->replies);
    replies->ran = true;
  }

 private:
  template <class Op, class T, class... A>
  BatchResult<T> add(const detail::ProxyBase& object, typename BatchResult<T>::Decode fn,
                     const A&... args) {
    static_assert(std::is_same_v<std::tuple<std::decay_t<A>...>, typename Op::Args>,
                  "argument types must match the op table exactly");
    if (!object.valid()) throw StateError("use of an empty proxy");
    if (!core_) {
      core_ = object.core_ptr();
    } else if (core_ != object.core_ptr() && core_->address() != object.core().address()) {
      throw ValueError("all objects of a batch must belong to one server");
    }
    if (!replies_) {
      replies_ = std::make_shared<detail::BatchReplies>();
      replies_->core = core_;
    }
    detail::append_frame(frames_, Op::code, 0, 0, object.id(), args...);
    return BatchResult<T>(replies_, count_++, fn);
  }

  static void decode_unit(detail::ClientCore&, std::string_view) {}
  template <class R>
  static R decode_result(detail::ClientCore& core, std::string_view payload) {
    return core.decode_reply<R>(payload);
  }
  template <class V>
  static V decode_stored(detail::ClientCore& core, std::string_view payload) {
    Bytes bytes = core.decode_reply<Bytes>(payload);
    return core.decode_reply<V>(bytes);
  }
  template <class V>
  static std::optional<V> decode_optional(detail::ClientCore& core, std::string_view payload) {
    auto bytes = core.decode_reply<std::optional<Bytes>>(payload);
    if (!bytes) return std::nullopt;
    return core.decode_reply<V>(*bytes);
  }

  std::shared_ptr<detail::ClientCore> core_;
  std::shared_ptr<detail::BatchReplies> replies_;
  std::string frames_;
  std::size_t count_ = 0;
};

}  // namespace mpshare
