// The client side of Value and Array (docs/SHARED_MEMORY.md): a mapping of
// the server's segment when the server is local, the same operations by RPC
// otherwise. SharedProxy<T> holds what Value<T> and Array<T> share.
#pragma once

#include <pthread.h>

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mpshare/detail/proxy.hpp"

namespace mpshare {
namespace detail {

// Whether T's single-element ops are lock-free atomics (std::atomic_ref) or
// done under the object's lock. Every process computes the same answer for
// the same T and ABI; the server checks that openers agree.
template <class T>
constexpr bool shared_lock_free() {
  if constexpr (!std::is_trivially_copyable_v<T>) {
    return false;
  } else {
    return std::atomic_ref<T>::is_always_lock_free && sizeof(T) <= 8 &&
           std::has_single_bit(sizeof(T)) &&
           sizeof(T) % std::atomic_ref<T>::required_alignment == 0;
  }
}

template <class T>
constexpr std::size_t shared_align() {
  if constexpr (shared_lock_free<T>())
    return std::max(alignof(T), std::atomic_ref<T>::required_alignment);
  else
    return alignof(T);
}

// One Value/Array as this process sees it: attached on first use, then
// either mapped (data() is the first element) or not (use RPC). Shared by
// every copy of a proxy; thread-safe. The mapping lives as long as this
// object, even after the server is gone.
class SharedBlock {
 public:
  SharedBlock(std::shared_ptr<ClientCore> core, std::uint64_t id)
      : core_(std::move(core)), id_(id) {}
  ~SharedBlock();
  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;

  // Attaches on first use (one round trip): maps the segment when the
  // server is on a Unix socket and ConnectOptions::map_shared_memory allows.
  const SharedLayout& layout() {
    if (!attached_.load(std::memory_order_acquire)) {
      std::call_once(once_, [this] { attach(); });
      attached_.store(true, std::memory_order_release);
    }
    return layout_;
  }
  bool mapped() { return layout(), data_ != nullptr; }
  // The first element; only when mapped().
  char* data() const { return data_; }

  // The robust mutex of a mapped block; lock_local() returns true when the
  // previous owner died holding it (the lock is then recovered).
  bool lock_local();
  void unlock_local();
  // The object's lock on either path; lock() returns true when the previous
  // owner died. Without a mapping the server holds it for this thread's
  // connection (and releases it if the connection closes).
  bool lock();
  void unlock();

 private:
  void attach();

  std::shared_ptr<ClientCore> core_;
  std::uint64_t id_;
  std::once_flag once_;
  std::atomic<bool> attached_{false};  // set after once_ ran attach()
  SharedLayout layout_;
  char* base_ = nullptr;
  pthread_mutex_t* mutex_ = nullptr;
  char* data_ = nullptr;
};

// Holds a mapped block's lock for a scope.
class SharedLocalGuard {
 public:
  explicit SharedLocalGuard(SharedBlock& b) : block_(b), owner_died_(b.lock_local()) {}
  ~SharedLocalGuard() { block_.unlock_local(); }
  SharedLocalGuard(const SharedLocalGuard&) = delete;
  SharedLocalGuard& operator=(const SharedLocalGuard&) = delete;
  bool owner_died() const { return owner_died_; }

 private:
  SharedBlock& block_;
  bool owner_died_;
};

}  // namespace detail

// The lock of a Value or Array: a POSIX robust, process-shared, recursive
// mutex (through the server for clients that do not map the memory).
// BasicLockable, for std::lock_guard / std::unique_lock. A copyable handle;
// one thread locks and unlocks it. acquire() also tells whether the
// previous owner died holding the lock (its changes may be half done).
class SharedLock {
 public:
  explicit SharedLock(std::shared_ptr<detail::SharedBlock> block) : block_(std::move(block)) {}
  void lock() { acquire(); }
  bool acquire() { return block_->lock(); }
  void unlock() { block_->unlock(); }

 private:
  std::shared_ptr<detail::SharedBlock> block_;
};

namespace detail {

// What Value<T> and Array<T> share: element ops by index on the mapping or
// by RPC. Thread-safe like every proxy.
template <class T>
class SharedProxy : public ProxyBase {
  static_assert(std::is_trivially_copyable_v<T>,
                "Value<T> and Array<T> hold trivially copyable types in shared memory; "
                "use Dict or List for other types");

 public:
  using value_type = T;
  // Single-element ops are lock-free atomics (else they take the lock).
  static constexpr bool lock_free = shared_lock_free<T>();

  // A BasicLockable view of the object's lock.
  SharedLock get_lock() const {
    block();
    return SharedLock(block_);
  }
  // Whether this process operates on the memory directly (no round trip).
  bool is_mapped() const { return block().mapped(); }

  template <class Ar>
  void load(Ar& ar) {
    ProxyBase::load(ar);
    block_ = core_ ? std::make_shared<SharedBlock>(core_, id_) : nullptr;
  }

 protected:
  SharedProxy() = default;
  SharedProxy(std::shared_ptr<ClientCore> core, std::uint64_t id, std::string name)
      : ProxyBase(std::move(core), id, std::move(name)),
        block_(std::make_shared<SharedBlock>(core_, id_)) {}

  static SharedSpec spec(std::uint64_t count, Bytes initial) {
    return SharedSpec{sizeof(T),
                      shared_align<T>(),
                      count,
                      lock_free,
                      std::endian::native == std::endian::little,
                      std::move(initial)};
  }
  static Bytes to_bytes(const T& v) {
    Bytes b(sizeof(T), '\0');
    std::memcpy(b.data(), &v, sizeof(T));
    return b;
  }
  static T from_bytes(const char* p) {
    std::array<char, sizeof(T)> raw;
    std::memcpy(raw.data(), p, sizeof(T));
    return std::bit_cast<T>(raw);
  }
  static T from_bytes(const Bytes& b) {
    if (b.size() != sizeof(T)) throw ProtocolError("element of unexpected size from the server");
    return from_bytes(b.data());
  }

  SharedBlock& block() const {
    if (!block_) throw StateError("use of an empty proxy");
    return *block_;
  }
  T* slot(std::size_t i) const { return reinterpret_cast<T*>(block().data()) + i; }
  std::size_t count() const { return block().layout().count; }
  std::size_t checked(std::size_t i) const {
    if (i >= count())
      throw IndexError("index " + std::to_string(i) + " out of range for '" + name_ + "' of size " +
                       std::to_string(count()));
    return i;
  }

  T load_at(std::size_t i) const {
    if (block().mapped()) {
      if constexpr (lock_free) {
        return std::atomic_ref<T>(*slot(i)).load();
      } else {
        SharedLocalGuard g(block());
        return from_bytes(reinterpret_cast<const char*>(slot(i)));
      }
    }
    return from_bytes(call<op::SharedLoad>(std::uint64_t{i}));
  }
  void store_at(std::size_t i, const T& v) {
    if (block().mapped()) {
      if constexpr (lock_free) {
        std::atomic_ref<T>(*slot(i)).store(v);
      } else {
        SharedLocalGuard g(block());
        std::memcpy(static_cast<void*>(slot(i)), &v, sizeof(T));
      }
      return;
    }
    call<op::SharedStore>(std::uint64_t{i}, to_bytes(v));
  }
  T exchange_at(std::size_t i, const T& v) {
    if (block().mapped()) {
      if constexpr (lock_free) {
        return std::atomic_ref<T>(*slot(i)).exchange(v);
      } else {
        SharedLocalGuard g(block());
        T old = from_bytes(reinterpret_cast<const char*>(slot(i)));
        std::memcpy(static_cast<void*>(slot(i)), &v, sizeof(T));
        return old;
      }
    }
    return from_bytes(call<op::SharedExchange>(std::uint64_t{i}, to_bytes(v)));
  }
  // Compares object representations, like std::atomic.
  bool compare_exchange_at(std::size_t i, T expected, const T& desired) {
    if (block().mapped()) {
      if constexpr (lock_free) {
        return std::atomic_ref<T>(*slot(i)).compare_exchange_strong(expected, desired);
      } else {
        SharedLocalGuard g(block());
        if (std::memcmp(static_cast<const void*>(slot(i)), &expected, sizeof(T)) != 0) return false;
        std::memcpy(static_cast<void*>(slot(i)), &desired, sizeof(T));
        return true;
      }
    }
    return call<op::SharedCompareExchange>(std::uint64_t{i}, to_bytes(expected), to_bytes(desired));
  }
  // Returns the previous value; integers wrap around like std::atomic.
  T fetch_add_at(std::size_t i, const T& d, bool subtract) {
    static_assert(is_arithmetic_value<T>, "fetch_add/fetch_sub need an arithmetic type");
    if (block().mapped()) {
      if constexpr (lock_free) {
        std::atomic_ref<T> ref(*slot(i));
        return subtract ? ref.fetch_sub(d) : ref.fetch_add(d);
      } else {
        SharedLocalGuard g(block());
        T old = *slot(i);
        *slot(i) = subtract ? T(old - d) : T(old + d);
        return old;
      }
    }
    if (subtract) return from_bytes(call<op::SharedFetchSub>(std::uint64_t{i}, to_bytes(d)));
    return from_bytes(call<op::SharedFetchAdd>(std::uint64_t{i}, to_bytes(d)));
  }
  std::vector<T> to_vector_all() const {
    const std::size_t n = count();
    std::vector<T> out;
    out.reserve(n);
    if (block().mapped()) {
      if constexpr (lock_free) {
        for (std::size_t i = 0; i < n; ++i) out.push_back(std::atomic_ref<T>(*slot(i)).load());
      } else {
        SharedLocalGuard g(block());
        for (std::size_t i = 0; i < n; ++i)
          out.push_back(from_bytes(reinterpret_cast<const char*>(slot(i))));
      }
      return out;
    }
    Bytes all = call<op::SharedReadAll>();
    if (all.size() != n * sizeof(T)) throw ProtocolError("contents of unexpected size");
    for (std::size_t i = 0; i < n; ++i) out.push_back(from_bytes(all.data() + i * sizeof(T)));
    return out;
  }

  // Runs fn(view(first, count)[, owner_died]) holding the lock and returns
  // what fn returns. Mapped: fn works on the shared memory itself. Not
  // mapped: on a copy the server sends, written back when fn returns or
  // throws.
  template <class Fn, class View>
  decltype(auto) locked(Fn& fn, View view) const {
    auto invoke = [&](T* first, bool owner_died) -> decltype(auto) {
      if constexpr (std::is_invocable_v<Fn&, decltype(view(first, 0)), bool>)
        return fn(view(first, count()), owner_died);
      else
        return fn(view(first, count()));
    };
    SharedBlock& b = block();
    if (b.mapped()) {
      SharedLocalGuard g(b);
      return invoke(slot(0), g.owner_died());
    }
    SharedLocked got = checked_core().template call_wait<op::SharedLock>(id_, std::nullopt);
    if (got.data.size() != count() * sizeof(T)) {
      unlock_remote(std::nullopt);
      throw ProtocolError("contents of unexpected size");
    }
    std::allocator<T> alloc;
    struct Copy {
      std::allocator<T>& alloc;
      T* p;
      std::size_t n;
      ~Copy() { alloc.deallocate(p, n); }
    } copy{alloc, alloc.allocate(std::max<std::size_t>(count(), 1)), count()};
    std::memcpy(static_cast<void*>(copy.p), got.data.data(), got.data.size());
    auto write_back = [&] {
      return std::optional<Bytes>(
          Bytes(reinterpret_cast<const char*>(copy.p), count() * sizeof(T)));
    };
    using R = decltype(invoke(copy.p, false));
    try {
      if constexpr (std::is_void_v<R>) {
        invoke(copy.p, got.owner_died);
        unlock_remote(write_back());
      } else {
        R r = invoke(copy.p, got.owner_died);
        unlock_remote(write_back());
        return r;
      }
    } catch (...) {
      try {
        unlock_remote(write_back());
      } catch (...) {
      }
      throw;
    }
  }

  std::shared_ptr<SharedBlock> block_;

 private:
  void unlock_remote(std::optional<Bytes> contents) const {
    checked_core().template call<op::SharedUnlock>(id_, contents);
  }
};

}  // namespace detail
}  // namespace mpshare
