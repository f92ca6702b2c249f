// Queue<T> and JoinableQueue<T>: shared FIFO queues held by the server, with
// an optional bound (maxsize, 0 = unbounded), like multiprocessing's Queue
// and JoinableQueue.
//
// Thread safety: proxies may be used from many threads and processes; each
// method is one atomic server operation. Blocking calls (put on a full
// queue, get on an empty one, join) park on the server, oldest caller
// served first, and block only the calling thread. They end with
// ConnectionLost if the server goes away, NoSuchObject if the queue is
// removed. A timed-out wait is a return value (false, std::nullopt, a short
// count), not an exception; a negative timeout is a ValueError.
//
// Shutdown (Python 3.13's Queue.shutdown) ends consumers without
// sentinels: after shutdown(), every put throws ShutDown, and get (also
// try_get, get_many and the timed forms) returns what is left, then throws
// ShutDown once the queue is empty. shutdown(true) also drops the items
// (a JoinableQueue counts each as a finished task, so join() returns once
// the tasks already taken are done) and wakes every parked get and put
// with ShutDown at once. A put_many parked at that moment has put an
// unknown prefix of its items.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "mpshare/detail/proxy.hpp"
#include "mpshare/detail/wait.hpp"

namespace mpshare {

template <class T>
class Queue : public detail::ProxyBase {
 public:
  using value_type = T;

  Queue() = default;
  Queue(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name)
      : ProxyBase(std::move(core), id, std::move(name)) {}

  static std::string type_signature() { return "queue<" + type_name<T>() + ">"; }

  // Waits as long as the queue is full.
  void put(const T& v) { put_encoded(one(v), detail::wait_forever); }
  // Returns false when the queue stayed full for `timeout`.
  template <class Rep, class Period>
  bool put(const T& v, std::chrono::duration<Rep, Period> timeout) {
    return put_encoded(one(v), detail::timeout_ns(timeout)) == 1;
  }
  bool try_put(const T& v) { return put_encoded(one(v), 0) == 1; }

  // Waits for an item.
  T get() { return decode_value<T>(get_encoded(1, detail::wait_forever).at(0)); }
  // std::nullopt when the queue stayed empty for `timeout`.
  template <class Rep, class Period>
  std::optional<T> get(std::chrono::duration<Rep, Period> timeout) {
    return first(get_encoded(1, detail::timeout_ns(timeout)));
  }
  std::optional<T> try_get() { return first(get_encoded(1, 0)); }

  // Puts every item in order in one call, waiting as long as the queue is
  // full; later putters' items never overtake a waiting batch.
  template <class Range>
  void put_many(const Range& items) {
    auto encoded = encode_each(items);
    put_encoded(encoded, detail::wait_forever);
  }
  // Returns how many leading items were put before `timeout` passed.
  template <class Range, class Rep, class Period>
  std::size_t put_many(const Range& items, std::chrono::duration<Rep, Period> timeout) {
    return put_encoded(encode_each(items), detail::timeout_ns(timeout));
  }
  // Waits for at least one item, then returns up to `max_items` (0 is a
  // ValueError) in one round trip.
  std::vector<T> get_many(std::size_t max_items) {
    return decode_all<T>(get_encoded(max_items, detail::wait_forever));
  }
  // As above; empty when the queue stayed empty for `timeout`.
  template <class Rep, class Period>
  std::vector<T> get_many(std::size_t max_items, std::chrono::duration<Rep, Period> timeout) {
    return decode_all<T>(get_encoded(max_items, detail::timeout_ns(timeout)));
  }

  // Idempotent; shutdown(true) after shutdown() still drops what is left.
  void shutdown(bool immediate = false) { call<detail::op::QueueShutdown>(immediate); }
  bool is_shutdown() const { return call<detail::op::QueueInfo>().shut_down; }

  std::size_t size() const { return call<detail::op::QueueSize>(); }
  bool empty() const { return size() == 0; }
  bool full() const {
    auto s = call<detail::op::QueueInfo>();
    return s.maxsize != 0 && s.size >= s.maxsize;
  }
  // 0: unbounded.
  std::size_t maxsize() const { return call<detail::op::QueueInfo>().maxsize; }

 protected:
  static detail::BytesList one(const T& v) { return detail::BytesList{encode(v)}; }
  std::optional<T> first(const detail::BytesList& got) const {
    if (got.empty()) return std::nullopt;
    return decode_value<T>(got.front());
  }
  std::uint64_t put_encoded(const detail::BytesList& items, std::int64_t timeout_ns) {
    return this->template call_waiting<detail::op::QueuePut>(timeout_ns, items);
  }
  detail::BytesList get_encoded(std::uint64_t max_items, std::int64_t timeout_ns) {
    return this->template call_waiting<detail::op::QueueGet>(timeout_ns, max_items);
  }
};

// A Queue that counts unfinished tasks: every item put is one, task_done()
// finishes them, join() waits until none is left.
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  JoinableQueue() = default;
  JoinableQueue(std::shared_ptr<detail::ClientCore> core, std::uint64_t id, std::string name)
      : Queue<T>(std::move(core), id, std::move(name)) {}

  static std::string type_signature() { return "joinable_queue<" + type_name<T>() + ">"; }

  // Marks `n` tasks finished; ValueError (nothing changes) when fewer than
  // `n` are unfinished.
  void task_done(std::size_t n = 1) {
    this->template call<detail::op::QueueTaskDone>(static_cast<std::uint64_t>(n));
  }
  // Waits until every item put has been marked done.
  void join() { join_ns(detail::wait_forever); }
  // Returns false when tasks were still unfinished after `timeout`.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return join_ns(detail::timeout_ns(timeout));
  }

 private:
  bool join_ns(std::int64_t timeout_ns) {
    return this->template call_waiting<detail::op::QueueJoin>(timeout_ns);
  }
};

template <class T>
struct TypeName<Queue<T>> {
  static std::string get() { return Queue<T>::type_signature(); }
};
template <class T>
struct TypeName<JoinableQueue<T>> {
  static std::string get() { return JoinableQueue<T>::type_signature(); }
};

}  // namespace mpshare
