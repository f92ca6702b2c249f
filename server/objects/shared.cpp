// Value and Array on the server: the shared-memory segment, its robust lock,
// and the ops for clients that do not map the memory (docs/SHARED_MEMORY.md).
//
// The server never blocks on the robust mutex: ops that need it queue in
// FIFO order and take it with pthread_mutex_trylock, retrying on a short
// timer while a local client holds it. While the server holds it on behalf
// of a session (SharedLock), only that session's ops run; the lock is
// released when the session unlocks or disconnects.
#include "shared.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <bit>
#include <boost/interprocess/managed_external_buffer.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>

#include "../handlers.hpp"
#include "../log.hpp"
#include "../server.hpp"
#include "arith.hpp"

namespace mpshare::server {

namespace {

namespace bip = boost::interprocess;

// The elements start on their own cache line, away from the mutex.
constexpr std::size_t data_alignment = 64;
constexpr std::uint64_t max_segment_bytes = std::uint64_t(1) << 40;
constexpr auto lock_retry = std::chrono::microseconds(200);

// An anonymous memfd mapped read-write, laid out by Boost.Interprocess: a
// robust, process-shared, recursive mutex, then the elements. Nothing of it
// has a name in any file system; the memory lives until the last mapping
// (server or client) is gone. Not copyable.
class Segment {
 public:
  Segment(const char* label, std::size_t data_bytes, std::size_t align) {
    try {
      create(label, data_bytes, align);
    } catch (...) {
      release();
      throw;
    }
  }
  ~Segment() { release(); }
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  int fd() const { return fd_; }
  std::size_t size() const { return size_; }
  pthread_mutex_t* mutex() const { return mutex_; }
  char* data() const { return data_; }
  std::uint64_t mutex_offset() const { return mutex_offset_; }
  std::uint64_t data_offset() const { return data_offset_; }

 private:
  void create(const char* label, std::size_t data_bytes, std::size_t align) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    size_ = (data_bytes + align + 8192 + page - 1) / page * page;
    fd_ = ::memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd_ < 0) throw_system("memfd_create");
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) throw_system("ftruncate");
    // No client can resize it under the others' mappings.
    ::fcntl(fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) throw_system("mmap");
    base_ = static_cast<char*>(p);

    bip::managed_external_buffer layout(bip::create_only, base_, size_);
    mutex_ = new (layout.allocate_aligned(sizeof(pthread_mutex_t), alignof(pthread_mutex_t)))
        pthread_mutex_t;
    data_ = static_cast<char*>(layout.allocate_aligned(std::max<std::size_t>(data_bytes, 1),
                                                       std::max(align, data_alignment)));
    mutex_offset_ = static_cast<std::uint64_t>(layout.get_handle_from_address(mutex_));
    data_offset_ = static_cast<std::uint64_t>(layout.get_handle_from_address(data_));

    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init(mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
      errno = rc;
      throw_system("pthread_mutex_init");
    }
  }
  [[noreturn]] void throw_system(const char* what) {
    int e = errno;
    throw Error(Errc::remote_error, std::string(what) + ": " + std::strerror(e));
  }
  void release() {
    if (base_) ::munmap(base_, size_);
    if (fd_ >= 0) ::close(fd_);
    base_ = nullptr;
    fd_ = -1;
  }

  int fd_ = -1;
  std::size_t size_ = 0;
  char* base_ = nullptr;
  pthread_mutex_t* mutex_ = nullptr;
  char* data_ = nullptr;
  std::uint64_t mutex_offset_ = 0, data_offset_ = 0;
};

// Calls f(W{}) with W the unsigned integer of n bytes (lock-free widths).
template <class F>
decltype(auto) by_width(std::size_t n, F&& f) {
  switch (n) {
    case 1:
      return f(std::uint8_t{});
    case 2:
      return f(std::uint16_t{});
    case 4:
      return f(std::uint32_t{});
    case 8:
      return f(std::uint64_t{});
    default:
      break;
  }
  fail(Errc::remote_error, "no lock-free access to elements of " + std::to_string(n) + " bytes");
}

template <class W>
W* word(char* p) {
  return reinterpret_cast<W*>(p);
}

SharedSpec decode_spec(const Bytes& params) {
  try {
    return decode<SharedSpec>(params);
  } catch (const Error&) {
    fail(Errc::value_error, "bad shared memory parameters");
  }
}

class SharedObject final : public Object {
 public:
  SharedObject(const OpenRequest& req, SharedSpec spec)
      : Object(req),
        spec_(std::move(spec)),
        segment_(req.kind == Kind::value ? "mpshare-value" : "mpshare-array", total_bytes(),
                 spec_.elem_align) {
    if (spec_.initial.size() == total_bytes())
      std::memcpy(segment_.data(), spec_.initial.data(), total_bytes());
    spec_.initial.clear();
  }
  ~SharedObject() override {
    if (holder_) pthread_mutex_unlock(segment_.mutex());
  }

  std::uint64_t size() const override { return spec_.count; }
  bool accepts(const OpenRequest& req) const override {
    SharedSpec s = decode_spec(req.params);
    return s.elem_size == spec_.elem_size && s.elem_align == spec_.elem_align &&
           s.count == spec_.count && s.lock_free == spec_.lock_free &&
           s.little_endian == spec_.little_endian;
  }
  void on_disconnect(SessionId s) override {
    std::erase_if(waiters_, [&](const Waiter& w) { return w.session == s; });
    if (holder_ == s) release();
    pump();
  }
  void on_remove() override {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) w.cancel();
    if (holder_) release();
  }

  std::uint64_t total_bytes() const { return spec_.count * spec_.elem_size; }
  bool atomic() const { return spec_.lock_free; }

  SharedLayout layout() const {
    return SharedLayout{spec_.count,     spec_.elem_size,         spec_.lock_free,       false,
                        segment_.size(), segment_.mutex_offset(), segment_.data_offset()};
  }
  int fd() const { return segment_.fd(); }

  // The element at `index`; IndexError when out of range.
  char* element(std::uint64_t index) {
    if (index >= spec_.count)
      fail(Errc::index_error, "index " + std::to_string(index) + " out of range for '" + name() +
                                  "' of size " + std::to_string(spec_.count));
    return segment_.data() + index * spec_.elem_size;
  }

  Bytes load(const char* p) const {
    Bytes out(spec_.elem_size, '\0');
    if (!atomic()) {
      std::memcpy(out.data(), p, out.size());
    } else {
      by_width(out.size(), [&](auto w) {
        using W = decltype(w);
        W v = __atomic_load_n(reinterpret_cast<const W*>(p), __ATOMIC_SEQ_CST);
        std::memcpy(out.data(), &v, sizeof v);
      });
    }
    return out;
  }
  void check_size(const Bytes& b) const {
    if (b.size() != spec_.elem_size)
      fail(Errc::value_error, "element of " + std::to_string(b.size()) + " bytes for '" + name() +
                                  "', whose elements have " + std::to_string(spec_.elem_size));
  }
  void store(char* p, const Bytes& b) {
    if (!atomic()) return void(std::memcpy(p, b.data(), b.size()));
    by_width(b.size(), [&](auto w) {
      decltype(w) v;
      std::memcpy(&v, b.data(), sizeof v);
      __atomic_store_n(word<decltype(w)>(p), v, __ATOMIC_SEQ_CST);
    });
  }
  Bytes exchange(char* p, const Bytes& b) {
    if (!atomic()) {
      Bytes old = load(p);
      store(p, b);
      return old;
    }
    Bytes old(b.size(), '\0');
    by_width(b.size(), [&](auto w) {
      decltype(w) v;
      std::memcpy(&v, b.data(), sizeof v);
      v = __atomic_exchange_n(word<decltype(w)>(p), v, __ATOMIC_SEQ_CST);
      std::memcpy(old.data(), &v, sizeof v);
    });
    return old;
  }
  bool compare_exchange(char* p, const Bytes& expected, const Bytes& desired) {
    if (!atomic()) {
      if (std::memcmp(p, expected.data(), expected.size()) != 0) return false;
      store(p, desired);
      return true;
    }
    return by_width(expected.size(), [&](auto w) {
      decltype(w) e, d;
      std::memcpy(&e, expected.data(), sizeof e);
      std::memcpy(&d, desired.data(), sizeof d);
      return __atomic_compare_exchange_n(word<decltype(w)>(p), &e, d, false, __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST);
    });
  }
  Bytes fetch_add(char* p, const Bytes& delta, bool subtract) {
    return with_arithmetic_type(value_code(), "fetch_add",
                                [&](auto t) { return add<decltype(t)>(p, delta, subtract); });
  }
  Bytes read_all() const {
    if (!atomic()) return Bytes(segment_.data(), total_bytes());
    Bytes out;
    out.reserve(total_bytes());
    for (std::uint64_t i = 0; i < spec_.count; ++i)
      out += load(segment_.data() + i * spec_.elem_size);
    return out;
  }
  void write_all(const Bytes& b) {
    if (b.size() != total_bytes())
      fail(Errc::value_error, "contents of " + std::to_string(b.size()) + " bytes for '" + name() +
                                  "' of " + std::to_string(total_bytes()));
    if (!atomic()) return void(std::memcpy(segment_.data(), b.data(), b.size()));
    for (std::uint64_t i = 0; i < spec_.count; ++i)
      store(segment_.data() + i * spec_.elem_size, b.substr(i * spec_.elem_size, spec_.elem_size));
  }

  // Runs `run(owner_died)` once the lock is held for c's session, now or
  // later in FIFO order; `cancel` instead when the object is removed. With
  // `keep` the session holds the lock afterwards until unlock(); otherwise
  // it is released (unless the session held it already).
  void enqueue(Call& c, bool keep, std::function<void(bool)> run, std::function<void()> cancel) {
    server_ = &c.server();
    if (holder_ == c.session_id()) {
      if (keep) ++depth_;
      return run(false);
    }
    waiters_.push_back({c.session_id(), keep, std::move(run), std::move(cancel)});
    pump();
  }

  // One level of the lock c's session holds; StateError if none.
  void unlock(Call& c, const std::optional<Bytes>& contents) {
    if (holder_ != c.session_id())
      fail(Errc::state_error, "'" + name() + "' is not locked by this client");
    if (contents) write_all(*contents);
    if (--depth_ == 0) {
      release();
      pump();
    }
  }

 private:
  struct Waiter {
    SessionId session;
    bool keep;
    std::function<void(bool)> run;
    std::function<void()> cancel;
  };

  void pump() {
    while (!waiters_.empty()) {
      bool owner_died = false;
      if (holder_) return;  // another session holds it: its unlock pumps
      if (!try_acquire(owner_died)) return arm_retry();
      Waiter w = std::move(waiters_.front());
      waiters_.pop_front();
      holder_ = w.session;
      depth_ = w.keep ? 1 : 0;
      w.run(owner_died);
      if (depth_ == 0) release();
    }
  }

  bool try_acquire(bool& owner_died) {
    int rc = pthread_mutex_trylock(segment_.mutex());
    if (rc == 0) return true;
    if (rc == EOWNERDEAD) {
      pthread_mutex_consistent(segment_.mutex());
      owner_died = true;
      return true;
    }
    if (rc != EBUSY)
      log(LogLevel::error, "'" + name() + "': pthread_mutex_trylock: " + std::strerror(rc));
    return false;
  }

  void release() {
    pthread_mutex_unlock(segment_.mutex());
    holder_.reset();
    depth_ = 0;
  }

  // A local client holds the lock: try again shortly, without blocking.
  void arm_retry() {
    if (retry_armed_ || server_ == nullptr) return;
    if (!retry_) retry_ = std::make_unique<asio::steady_timer>(server_->io());
    retry_armed_ = true;
    retry_->expires_after(lock_retry);
    retry_->async_wait([this](asio::error_code ec) {
      if (ec) return;  // cancelled: the object may be gone
      retry_armed_ = false;
      pump();
    });
  }

  SharedSpec spec_;
  Segment segment_;
  Server* server_ = nullptr;
  std::deque<Waiter> waiters_;
  std::optional<SessionId> holder_;
  std::uint64_t depth_ = 0;
  std::unique_ptr<asio::steady_timer> retry_;
  bool retry_armed_ = false;

  template <class T>
  Bytes add(char* p, const Bytes& delta_bytes, bool subtract) {
    T delta, old;
    std::memcpy(&delta, delta_bytes.data(), sizeof delta);
    if (atomic()) {
      std::atomic_ref<T> ref(*reinterpret_cast<T*>(p));
      old = subtract ? ref.fetch_sub(delta) : ref.fetch_add(delta);
    } else {
      std::memcpy(&old, p, sizeof old);
      T next;
      if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        next = static_cast<T>(subtract ? U(U(old) - U(delta)) : U(U(old) + U(delta)));
      } else {
        next = subtract ? old - delta : old + delta;
      }
      std::memcpy(p, &next, sizeof next);
    }
    Bytes out(sizeof old, '\0');
    std::memcpy(out.data(), &old, sizeof old);
    return out;
  }
};

SharedObject& obj(Call& c) {
  return c.as<SharedObject>();
}

// Runs f(owner_died) -> Op::Result under the object's lock for this call's
// session, answering the call when it has run.
template <class Op, class F>
std::optional<typename Op::Result> locked(Call& c, bool keep, F f) {
  auto p = c.park<Op>();
  obj(c).enqueue(
      c, keep,
      [p, f = std::move(f)](bool owner_died) mutable {
        try {
          p.complete(f(owner_died));
        } catch (const HandlerError& e) {
          p.fail(e.code(), e.what());
        } catch (const Error& e) {
          p.fail(e.errc(), e.what());
        }
      },
      [p]() mutable { p.fail(Errc::no_such_object, "the object was removed"); });
  return std::nullopt;
}

// An element op: lock-free objects run it at once, the others under the lock.
template <class Op, class F>
std::optional<typename Op::Result> element_op(Call& c, F f) {
  if (obj(c).atomic()) return f(false);
  return locked<Op>(c, false, std::move(f));
}

}  // namespace

std::unique_ptr<Object> make_shared_memory_object(const OpenRequest& req) {
  SharedSpec spec = decode_spec(req.params);
  const bool little = std::endian::native == std::endian::little;
  if (spec.elem_size == 0 || spec.elem_align == 0 || !std::has_single_bit(spec.elem_align) ||
      spec.elem_align > 4096)
    fail(Errc::value_error, "bad element size or alignment");
  if (spec.count > max_segment_bytes / spec.elem_size)
    fail(Errc::value_error, "shared memory object too large");
  if (req.kind == Kind::value && spec.count != 1)
    fail(Errc::value_error, "a value holds exactly one element");
  if (spec.little_endian != little)
    fail(Errc::type_mismatch, "the server's byte order differs from the client's");
  if (spec.lock_free && !std::has_single_bit(spec.elem_size))
    fail(Errc::type_mismatch, "the server cannot access these elements lock-free");
  if (spec.lock_free && spec.elem_size > 8)
    fail(Errc::type_mismatch, "the server cannot access these elements lock-free");
  if (!spec.initial.empty() && spec.initial.size() != spec.count * spec.elem_size)
    fail(Errc::value_error, "initial contents do not match the size");
  return std::make_unique<SharedObject>(req, std::move(spec));
}

std::optional<SharedLayout> handle(op::SharedAttach, Call& c, bool want_fd) {
  SharedLayout l = obj(c).layout();
  if (want_fd) l.fd_passed = c.attach_fd(obj(c).fd());
  return l;
}

std::optional<Bytes> handle(op::SharedLoad, Call& c, std::uint64_t index) {
  char* p = obj(c).element(index);
  return element_op<op::SharedLoad>(c, [&o = obj(c), p](bool) { return o.load(p); });
}

std::optional<Unit> handle(op::SharedStore, Call& c, std::uint64_t index, Bytes v) {
  char* p = obj(c).element(index);
  obj(c).check_size(v);
  return element_op<op::SharedStore>(c, [&o = obj(c), p, v](bool) {
    o.store(p, v);
    return Unit{};
  });
}

std::optional<Bytes> handle(op::SharedExchange, Call& c, std::uint64_t index, Bytes v) {
  char* p = obj(c).element(index);
  obj(c).check_size(v);
  return element_op<op::SharedExchange>(c, [&o = obj(c), p, v](bool) { return o.exchange(p, v); });
}

std::optional<bool> handle(op::SharedCompareExchange, Call& c, std::uint64_t index, Bytes expected,
                           Bytes desired) {
  char* p = obj(c).element(index);
  obj(c).check_size(expected);
  obj(c).check_size(desired);
  return element_op<op::SharedCompareExchange>(c, [&o = obj(c), p, expected, desired](bool) {
    return o.compare_exchange(p, expected, desired);
  });
}

std::optional<Bytes> handle(op::SharedFetchAdd, Call& c, std::uint64_t index, Bytes delta) {
  char* p = obj(c).element(index);
  obj(c).check_size(delta);
  return element_op<op::SharedFetchAdd>(
      c, [&o = obj(c), p, delta](bool) { return o.fetch_add(p, delta, false); });
}

std::optional<Bytes> handle(op::SharedFetchSub, Call& c, std::uint64_t index, Bytes delta) {
  char* p = obj(c).element(index);
  obj(c).check_size(delta);
  return element_op<op::SharedFetchSub>(
      c, [&o = obj(c), p, delta](bool) { return o.fetch_add(p, delta, true); });
}

std::optional<Bytes> handle(op::SharedReadAll, Call& c) {
  return element_op<op::SharedReadAll>(c, [&o = obj(c)](bool) { return o.read_all(); });
}

std::optional<SharedLocked> handle(op::SharedLock, Call& c) {
  return locked<op::SharedLock>(c, true, [&o = obj(c)](bool owner_died) {
    return SharedLocked{owner_died, o.read_all()};
  });
}

std::optional<Unit> handle(op::SharedUnlock, Call& c, std::optional<Bytes> contents) {
  obj(c).unlock(c, contents);
  return Unit{};
}

}  // namespace mpshare::server
