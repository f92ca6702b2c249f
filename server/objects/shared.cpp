// Value and Array on the server: the element ops, for clients that do not
// map the memory (docs/SHARED_MEMORY.md). The segment is segment.cpp; its
// lock, held for sessions without blocking the server, is segment_lock.cpp.
#include "shared.hpp"

#include <atomic>
#include <bit>
#include <cstring>

#include "../handlers.hpp"
#include "arith.hpp"
#include "factory.hpp"
#include "segment.hpp"
#include "segment_lock.hpp"

namespace mpshare::server {

namespace {

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

// What a reply holding the whole contents adds to them (archive, flag, size).
constexpr std::uint64_t reply_overhead = 64;

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
  SharedObject(const ObjectContext& cx, const OpenRequest& req, SharedSpec spec)
      : Object(cx, req),
        spec_(std::move(spec)),
        segment_(req.kind == Kind::value ? "mpshare-value" : "mpshare-array", total_bytes(),
                 spec_.elem_align),
        lock_(*this, segment_.mutex()) {
    if (spec_.initial.size() == total_bytes())
      std::memcpy(segment_.data(), spec_.initial.data(), total_bytes());
    spec_.initial.clear();
  }

  std::uint64_t size() const override { return spec_.count; }
  bool accepts(const OpenRequest& req) const override {
    SharedSpec s = decode_spec(req.params);
    same_param(*this, "element count", spec_.count, s.count);
    same_param(*this, "element size", spec_.elem_size, s.elem_size);
    same_param(*this, "element alignment", spec_.elem_align, s.elem_align);
    same_param(*this, "lock_free", spec_.lock_free, s.lock_free);
    same_param(*this, "little_endian", spec_.little_endian, s.little_endian);
    return true;
  }
  void on_disconnect(SessionId s) override { lock_.on_disconnect(s); }
  void on_remove() override { lock_.on_remove(); }
  void describe(ObjectDetail& d, std::chrono::steady_clock::time_point now) const override {
    lock_.describe(d, now);
    d.state["count"] = static_cast<std::int64_t>(spec_.count);
    d.state["elem_size"] = static_cast<std::int64_t>(spec_.elem_size);
  }
  SegmentLock& lock() { return lock_; }

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
  // The elements [index, index + count); IndexError unless inside.
  char* range(std::uint64_t index, std::uint64_t count) {
    if (index > spec_.count || count > spec_.count - index)
      fail(Errc::index_error, "elements [" + std::to_string(index) + ", +" + std::to_string(count) +
                                  ") out of range for '" + name() + "' of size " +
                                  std::to_string(spec_.count));
    return segment_.data() + index * spec_.elem_size;
  }
  Bytes read_range(const char* p, std::uint64_t count) const {
    Bytes out;
    out.reserve(count * spec_.elem_size);
    for (std::uint64_t i = 0; i < count; ++i) out += load(p + i * spec_.elem_size);
    return out;
  }
  void write_range(char* p, const Bytes& b) {
    for (std::uint64_t i = 0; i < b.size() / spec_.elem_size; ++i)
      store(p + i * spec_.elem_size, b.substr(i * spec_.elem_size, spec_.elem_size));
  }
  std::uint64_t elements_in(const Bytes& b) const {
    if (b.size() % spec_.elem_size != 0)
      fail(Errc::value_error,
           std::to_string(b.size()) + " bytes are no whole number of '" + name() + "' elements");
    return b.size() / spec_.elem_size;
  }

  // The whole contents, when a reply can carry them.
  Bytes read_all() const {
    if (total_bytes() > context().limits.max_reply_bytes - reply_overhead)
      fail(Errc::value_error, "'" + name() + "' holds " + std::to_string(total_bytes()) +
                                  " bytes, more than a reply may carry: read elements, or map it");
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

 private:
  SharedSpec spec_;
  Segment segment_;
  SegmentLock lock_;

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

// An element op: lock-free objects run it at once, the others under the lock.
template <class Op, class F>
std::optional<typename Op::Result> element_op(Call& c, F f) {
  if (obj(c).atomic()) return f(false);
  return obj(c).lock().run<Op>(c, false, std::move(f));
}

}  // namespace

std::unique_ptr<Object> make_shared_memory_object(const ObjectContext& cx, const OpenRequest& req) {
  SharedSpec spec = decode_spec(req.params);
  const bool little = std::endian::native == std::endian::little;
  if (spec.elem_size == 0 || spec.elem_align == 0 || !std::has_single_bit(spec.elem_align) ||
      spec.elem_align > 4096)
    fail(Errc::value_error, "bad element size or alignment");
  const std::uint64_t max_bytes = cx.limits.max_shared_bytes;
  if (spec.count > max_bytes / spec.elem_size)
    fail(Errc::value_error, "shared memory object of " + std::to_string(spec.count) + " x " +
                                std::to_string(spec.elem_size) + " bytes exceeds the server's " +
                                std::to_string(max_bytes) + " (mpshare-server --max-shared-bytes)");
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
  return std::make_unique<SharedObject>(cx, req, std::move(spec));
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

std::optional<Bytes> handle(op::SharedReadRange, Call& c, std::uint64_t index,
                            std::uint64_t count) {
  const char* p = obj(c).range(index, count);
  return obj(c).lock().run<op::SharedReadRange>(
      c, false, [&o = obj(c), p, count](bool) { return o.read_range(p, count); });
}

std::optional<Unit> handle(op::SharedWriteRange, Call& c, std::uint64_t index, Bytes elements) {
  char* p = obj(c).range(index, obj(c).elements_in(elements));
  return obj(c).lock().run<op::SharedWriteRange>(c, false, [&o = obj(c), p, elements](bool) {
    o.write_range(p, elements);
    return Unit{};
  });
}

std::optional<SharedLocked> handle(op::SharedLock, Call& c) {
  return obj(c).lock().run<op::SharedLock>(c, true, [&o = obj(c)](bool owner_died) {
    return SharedLocked{owner_died, o.read_all()};
  });
}

std::optional<Unit> handle(op::SharedUnlock, Call& c, std::optional<Bytes> contents) {
  SharedObject& o = obj(c);
  o.lock().unlock(c.session_id(), [&] {
    if (contents) o.write_all(*contents);
  });
  return Unit{};
}

}  // namespace mpshare::server
