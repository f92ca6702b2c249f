// Pool: worker processes that run tasks, as Python's multiprocessing.Pool,
// plus remote workers. Tasks live on the server as a task queue object, so
// local workers (forked from one single-threaded fork server taken when the
// pool starts) and remote ones (serve_pool) are one mechanism. A worker
// that dies does not stall the pool: its tasks run again elsewhere, up to
// max_attempts, after which that task alone fails with WorkerLost.
//
//   int square(int x) { return x * x; }
//   MPSHARE_TASK(square);
//   mpshare::Pool pool(4);
//   std::vector<int> r = pool.map(square, inputs);
//
// A function registered with MPSHARE_TASK runs on any worker that
// registered it with the same signature; a plain function (or a lambda
// without captures) runs on local workers only.
//
// Thread safety: a Pool may be used from many threads. Callbacks run in the
// submitting process, one at a time, on the pool's result thread (or on a
// thread of this process waiting for a result of the pool), and have
// finished before join() or ~Pool returns. Ownership: ~Pool closes, then joins: work already
// submitted is finished, never dropped.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "mpshare/detail/pool_core.hpp"
#include "mpshare/detail/task_registry.hpp"
#include "mpshare/errors.hpp"
#include "mpshare/manager.hpp"

namespace mpshare {

struct PoolOptions {
  std::optional<std::size_t> processes{};  // unset: cpu_count(); 0: no local workers (remote only)
  std::function<void()> initializer{};     // runs once in each worker
  std::size_t maxtasksperchild = 0;        // 0: unlimited
  int max_attempts = 3;                    // a task re-run after its worker died, then WorkerLost
  std::optional<std::chrono::milliseconds> task_timeout{};
  std::chrono::milliseconds lease{30000};  // a silent remote worker's tasks go back after this
};

struct MapOptions {
  std::size_t chunksize = 0;  // 0: Python's default, ceil(n / (4 x workers)); imap: 1
  bool progress = false;      // one line on stderr, when it is a terminal
  std::function<void(std::size_t done, std::size_t total)> on_progress{};
};

namespace detail {

void print_callback_error(const char* what) noexcept;

// The shared state of an AsyncResult.
template <class T>
class ResultState : public TaskGroup {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  using OnResult =
      std::conditional_t<std::is_void_v<T>, std::function<void()>, std::function<void(const T&)>>;
  using OnError = std::function<void(const Error&)>;

  void set_callbacks(OnResult ok, OnError err) {
    on_ok_ = std::move(ok);
    on_err_ = std::move(err);
  }

  void set_value(Stored v) {
    if (done_) return;
    if (on_ok_) {
      try {
        if constexpr (std::is_void_v<T>)
          on_ok_();
        else
          on_ok_(v);
      } catch (const std::exception& e) {
        print_callback_error(e.what());
      }
    }
    std::lock_guard lock(mu_);
    value_.emplace(std::move(v));
    done_ = true;
    cv_.notify_all();
  }
  void set_error(std::exception_ptr e) {
    if (done_) return;
    if (on_err_) {
      try {
        std::rethrow_exception(e);
      } catch (const Error& err) {
        try {
          on_err_(err);
        } catch (const std::exception& x) {
          print_callback_error(x.what());
        }
      } catch (...) {
      }
    }
    std::lock_guard lock(mu_);
    error_ = std::move(e);
    done_ = true;
    cv_.notify_all();
  }

  bool needs_collector() const override { return on_ok_ || on_err_; }

  void wait() { wait_until(std::nullopt); }
  template <class R, class P>
  bool wait_for(std::chrono::duration<R, P> d) {
    return wait_until(PoolCore::Clock::now() +
                      std::chrono::ceil<PoolCore::Clock::duration>(std::max(d, d.zero())));
  }
  bool wait_until(std::optional<PoolCore::Clock::time_point> deadline) {
    if (done_) return true;
    if (auto core = this->core_.lock())
      return core->await([this] { return done_.load(); }, deadline);
    // The pool is gone, so every task of it has finished.
    std::unique_lock lock(mu_);
    const auto done = [&] { return done_.load(); };
    if (!deadline) {
      cv_.wait(lock, done);
      return true;
    }
    return cv_.wait_until(lock, *deadline, done);
  }
  bool ready() const { return done_; }
  bool successful() const {
    if (!done_) throw StateError("the result is not ready");
    std::lock_guard lock(mu_);
    return error_ == nullptr;
  }
  // The value (moved out) or the error; call after wait().
  Stored take() {
    std::lock_guard lock(mu_);
    if (error_) std::rethrow_exception(error_);
    if (!value_) throw StateError("the result was taken already");
    Stored v = std::move(*value_);
    value_.reset();
    return v;
  }

 protected:
  std::string task_;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> done_{false};
  std::optional<Stored> value_;
  std::exception_ptr error_;
  OnResult on_ok_;
  OnError on_err_;
};

// Decodes a chunk's results; ProtocolError (as an exception_ptr) when the
// bytes are not what `task` returns, or when a result type's own decoding
// throws.
template <class R>
std::variant<ChunkResults<R>, std::exception_ptr> decode_chunk(std::string_view data,
                                                               const std::string& task) {
  try {
    return decode<ChunkResults<R>>(data);
  } catch (const std::exception& e) {
    return undecodable_result(task, e.what());
  } catch (...) {
    return undecodable_result(task, "its decoding threw a non-standard exception");
  }
}

template <class T>
class ApplyGroup final : public ResultState<T> {
 public:
  explicit ApplyGroup(std::string task) { this->task_ = std::move(task); }
  void on_result(std::size_t, TaskStatus status, std::string_view data) override {
    if (status != TaskStatus::ok) return this->set_error(task_exception(status, data, this->task_));
    auto r = decode_chunk<T>(data, this->task_);
    if (auto* e = std::get_if<std::exception_ptr>(&r)) return this->set_error(*e);
    auto& v = std::get<0>(r);
    if constexpr (std::is_void_v<T>) {
      this->set_value({});
    } else {
      if (v.size() != 1)
        return this->set_error(undecodable_result(this->task_, "expected one result"));
      this->set_value(std::move(v[0]));
    }
  }
};

template <class R>
class MapGroup final : public ResultState<std::vector<R>> {
 public:
  MapGroup(std::string task, std::size_t n, std::size_t chunksize, Progress progress)
      : slots_(n), chunksize_(chunksize), remaining_(n), progress_(std::move(progress)) {
    this->task_ = std::move(task);
    if (n == 0) this->set_value({});
  }
  bool needs_collector() const override {
    return ResultState<std::vector<R>>::needs_collector() || progress_.active();
  }
  void on_result(std::size_t chunk, TaskStatus status, std::string_view data) override {
    if (failed_) return;
    if (status != TaskStatus::ok) {
      failed_ = true;
      return this->set_error(task_exception(status, data, this->task_));
    }
    auto r = decode_chunk<R>(data, this->task_);
    const std::size_t at = chunk * chunksize_;
    const std::size_t count = std::min(chunksize_, slots_.size() - at);
    if (auto* e = std::get_if<std::exception_ptr>(&r)) {
      failed_ = true;
      return this->set_error(*e);
    }
    auto& v = std::get<0>(r);
    if (v.size() != count) {
      failed_ = true;
      return this->set_error(undecodable_result(this->task_, "wrong number of results"));
    }
    for (std::size_t i = 0; i < count; ++i) slots_[at + i].emplace(std::move(v[i]));
    remaining_ -= count;
    progress_.update(slots_.size() - remaining_);
    if (remaining_ > 0) return;
    std::vector<R> out;
    out.reserve(slots_.size());
    for (auto& s : slots_) out.push_back(std::move(*s));
    slots_.clear();
    this->set_value(std::move(out));
  }

 private:
  std::vector<std::optional<R>> slots_;
  std::size_t chunksize_;
  std::size_t remaining_;
  bool failed_ = false;
  Progress progress_;
};

// Finished chunks of an imap, for its consuming thread.
template <class R>
class ImapGroup final : public TaskGroup {
 public:
  ImapGroup(std::string task, Progress progress)
      : task_(std::move(task)), progress_(std::move(progress)) {}
  struct Chunk {
    std::vector<R> values;
    std::exception_ptr error;
  };
  void on_result(std::size_t chunk, TaskStatus status, std::string_view data) override {
    Chunk c;
    if (status != TaskStatus::ok) {
      c.error = task_exception(status, data, task_);
    } else {
      auto r = decode_chunk<R>(data, task_);
      if (auto* e = std::get_if<std::exception_ptr>(&r))
        c.error = *e;
      else
        c.values = std::move(std::get<0>(r));
    }
    done_items_ += c.values.size();
    progress_.update(done_items_);
    std::lock_guard lock(mu_);
    done_.emplace(chunk, std::move(c));
    cv_.notify_all();
  }
  bool needs_collector() const override { return progress_.active(); }
  // Waits for chunk `index` (ordered) or any chunk (index nullopt).
  std::pair<std::size_t, Chunk> take(std::optional<std::size_t> index) {
    const auto ready = [&] { return index ? done_.count(*index) > 0 : !done_.empty(); };
    if (auto core = core_.lock())
      core->await(
          [&] {
            std::lock_guard lock(mu_);
            return ready();
          },
          std::nullopt);
    std::unique_lock lock(mu_);
    cv_.wait(lock, ready);
    auto it = index ? done_.find(*index) : done_.begin();
    std::pair<std::size_t, Chunk> out{it->first, std::move(it->second)};
    done_.erase(it);
    return out;
  }

 private:
  std::string task_;
  Progress progress_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::size_t, Chunk> done_;
  std::size_t done_items_ = 0;
};

template <class Fn>
struct FnArgs;
template <class R, class... A>
struct FnArgs<R (*)(A...)> {
  using Result = R;
  using Tuple = std::tuple<std::decay_t<A>...>;
  static constexpr std::size_t arity = sizeof...(A);
};

// One input item as the function's argument tuple: the item itself for
// map, its elements for starmap.
template <class Tuple, bool star, class Item>
Tuple as_args(Item&& item) {
  if constexpr (star)
    return std::apply([](auto&&... a) { return Tuple(std::forward<decltype(a)>(a)...); },
                      std::forward<Item>(item));
  else
    return Tuple(std::forward<Item>(item));
}

template <class Tuple>
Bytes encode_chunk(const TaskTarget& t, const std::vector<Tuple>& items) {
  Bytes b = t.prefix;
  encode_into(b, items);
  return b;
}

}  // namespace detail

// The outcome of a task submitted with apply_async or map_async. Movable, not
// copyable; dropping it cancels nothing.
template <class T>
class AsyncResult {
 public:
  using Stored = typename detail::ResultState<T>::Stored;
  explicit AsyncResult(std::shared_ptr<detail::ResultState<T>> s) : state_(std::move(s)) {}
  AsyncResult(AsyncResult&&) noexcept = default;
  AsyncResult& operator=(AsyncResult&&) noexcept = default;
  AsyncResult(const AsyncResult&) = delete;
  AsyncResult& operator=(const AsyncResult&) = delete;

  // The result, or the task's error (TaskError, WorkerLost, TaskTimeout).
  T get() {
    state_->wait();
    if constexpr (std::is_void_v<T>)
      state_->take();
    else
      return state_->take();
  }
  // nullopt (void: false) when not ready within `d`.
  template <class R, class P>
  auto get(std::chrono::duration<R, P> d) {
    const bool ok = state_->wait_for(d);
    if constexpr (std::is_void_v<T>) {
      if (ok) state_->take();
      return ok;
    } else {
      return ok ? std::optional<T>(state_->take()) : std::nullopt;
    }
  }
  void wait() { state_->wait(); }
  template <class R, class P>
  bool wait(std::chrono::duration<R, P> d) {
    return state_->wait_for(d);
  }
  bool ready() const { return state_->ready(); }
  // Whether it finished without error; StateError while not ready.
  bool successful() const { return state_->successful(); }

 private:
  std::shared_ptr<detail::ResultState<T>> state_;
};

class Pool;

// The lazy range imap and imap_unordered return. Items are produced as they
// finish; input is read only as needed to keep at most a bounded number of
// tasks in flight. Iterating it again continues where it stopped. Dropping
// it early leaves the tasks in flight to finish (their results are dropped).
template <class R, class Fn, class Range, bool ordered, bool star>
class ImapRange {
  using Args = typename detail::FnArgs<Fn>::Tuple;

 public:
  ImapRange(std::shared_ptr<detail::PoolCore> core, Fn fn, Range&& range, MapOptions opts)
      : core_(std::move(core)), range_(std::forward<Range>(range)), opts_(std::move(opts)) {
    target_ = core_->target(detail::task_fn(fn));
    chunksize_ = std::max<std::size_t>(opts_.chunksize, 1);
    limit_ = std::max<std::size_t>(64, 8 * core_->workers());
    std::size_t total = 0;
    if constexpr (std::ranges::sized_range<decltype(range_)>) total = std::ranges::size(range_);
    group_ = std::make_shared<detail::ImapGroup<R>>(
        target_.name, detail::Progress(opts_.progress, opts_.on_progress, total));
  }

  struct sentinel {};
  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    explicit iterator(ImapRange* r) : r_(r) { r_->advance(); }
    const R& operator*() const { return r_->current(); }
    iterator& operator++() {
      r_->advance();
      return *this;
    }
    void operator++(int) { r_->advance(); }
    bool operator==(sentinel) const { return r_->finished(); }

   private:
    ImapRange* r_;
  };
  iterator begin() { return iterator(this); }
  sentinel end() { return {}; }
  // How many input items have been read so far.
  std::size_t items_read() const { return read_; }

 private:
  void fill() {
    if (!started_) {
      it_.emplace(std::ranges::begin(range_));
      started_ = true;
    }
    while (!input_done_ && submitted_ - taken_ < limit_) {
      std::vector<Bytes> chunks;
      for (int c = 0; c < 64 && !input_done_ && submitted_ + chunks.size() - taken_ < limit_; ++c) {
        std::vector<Args> items;
        while (items.size() < chunksize_ && *it_ != std::ranges::end(range_)) {
          items.push_back(detail::as_args<Args, star>(**it_));
          ++*it_;
          ++read_;
        }
        if (items.size() < chunksize_) input_done_ = true;
        if (!items.empty()) chunks.push_back(detail::encode_chunk(target_, items));
      }
      if (chunks.empty()) break;
      const std::size_t n = chunks.size();
      core_->submit(group_, target_, std::move(chunks), submitted_);
      submitted_ += n;
    }
  }
  void advance() {
    if (pos_ + 1 < chunk_.size()) {
      ++pos_;
      return;
    }
    chunk_.clear();
    pos_ = 0;
    fill();
    while (taken_ < submitted_) {
      auto [index, c] = group_->take(ordered ? std::optional<std::size_t>(taken_) : std::nullopt);
      ++taken_;
      fill();
      if (c.error) std::rethrow_exception(c.error);
      if (c.values.empty()) continue;
      chunk_ = std::move(c.values);
      return;
    }
  }
  const R& current() const { return chunk_[pos_]; }
  bool finished() const { return chunk_.empty() && input_done_ && taken_ == submitted_; }

  std::shared_ptr<detail::PoolCore> core_;
  std::ranges::views::all_t<Range> range_;
  MapOptions opts_;
  detail::TaskTarget target_;
  std::size_t chunksize_ = 1, limit_ = 64;
  std::shared_ptr<detail::ImapGroup<R>> group_;
  std::optional<std::ranges::iterator_t<std::ranges::views::all_t<Range>>> it_;
  bool started_ = false, input_done_ = false;
  std::size_t submitted_ = 0, taken_ = 0, read_ = 0;
  std::vector<R> chunk_;
  std::size_t pos_ = 0;
};

class Pool {
 public:
  Pool();
  explicit Pool(std::size_t processes);
  explicit Pool(PoolOptions options);
  // Tasks on `mgr`'s server under `name`, where serve_pool workers can join.
  Pool(Manager& mgr, std::string name, PoolOptions options = {});
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  template <class F, class... A>
  requires std::is_invocable_v<typename detail::FnPointer<std::remove_cvref_t<F>>::type, A...>
  auto apply_async(F&& f, A&&... args) {
    return apply_async(std::forward<F>(f), std::tuple<std::decay_t<A>...>(std::forward<A>(args)...),
                       nullptr, nullptr);
  }
  // on_result(const T&) (void tasks: on_result()) and on_error(const Error&)
  // run on the pool's result thread; nullptr for none.
  template <class F, class... A, class OnResult, class OnError = std::nullptr_t>
  auto apply_async(F&& f, std::tuple<A...> args, OnResult on_result, OnError on_error = nullptr) {
    auto fn = detail::as_function(std::forward<F>(f));
    using Info = detail::FnArgs<decltype(fn)>;
    using R = typename Info::Result;
    auto target = core_->target(detail::task_fn(fn));
    auto state = std::make_shared<detail::ApplyGroup<R>>(target.name);
    typename detail::ResultState<R>::OnResult ok;
    typename detail::ResultState<R>::OnError err;
    if constexpr (!std::is_same_v<OnResult, std::nullptr_t>) ok = std::move(on_result);
    if constexpr (!std::is_same_v<OnError, std::nullptr_t>) err = std::move(on_error);
    state->set_callbacks(std::move(ok), std::move(err));
    std::vector<typename Info::Tuple> items;
    items.push_back(std::apply(
        [](auto&&... a) { return typename Info::Tuple(std::forward<decltype(a)>(a)...); },
        std::move(args)));
    std::vector<Bytes> chunks;
    chunks.push_back(detail::encode_chunk(target, items));
    core_->submit(state, target, std::move(chunks), 0);
    return AsyncResult<R>(state);
  }
  template <class F, class... A>
  auto apply(F&& f, A&&... args) {
    return apply_async(std::forward<F>(f), std::forward<A>(args)...).get();
  }

  template <class F, class Range>
  auto map_async(F&& f, Range&& inputs, MapOptions opts = {}) {
    return submit_map<false>(detail::as_function(std::forward<F>(f)), std::forward<Range>(inputs),
                             std::move(opts));
  }
  template <class F, class Range>
  auto map(F&& f, Range&& inputs, MapOptions opts = {}) {
    return map_async(std::forward<F>(f), std::forward<Range>(inputs), std::move(opts)).get();
  }
  template <class F, class Range>
  auto starmap_async(F&& f, Range&& inputs, MapOptions opts = {}) {
    return submit_map<true>(detail::as_function(std::forward<F>(f)), std::forward<Range>(inputs),
                            std::move(opts));
  }
  template <class F, class Range>
  auto starmap(F&& f, Range&& inputs, MapOptions opts = {}) {
    return starmap_async(std::forward<F>(f), std::forward<Range>(inputs), std::move(opts)).get();
  }
  template <class F, class Range>
  auto imap(F&& f, Range&& inputs, MapOptions opts = {}) {
    return make_imap<true>(detail::as_function(std::forward<F>(f)), std::forward<Range>(inputs),
                           std::move(opts));
  }
  template <class F, class Range>
  auto imap_unordered(F&& f, Range&& inputs, MapOptions opts = {}) {
    return make_imap<false>(detail::as_function(std::forward<F>(f)), std::forward<Range>(inputs),
                            std::move(opts));
  }

  // No more tasks; workers exit once the queued ones are done.
  void close();
  // Stops the workers now; unfinished tasks fail with StateError.
  void terminate();
  // Waits for every task, its callbacks and the local workers. StateError
  // unless close() or terminate() was called.
  void join();
  // Process ids of the workers that have joined (local and remote).
  std::vector<std::int64_t> worker_pids();

 private:
  template <bool star, class Fn, class Range>
  auto submit_map(Fn fn, Range&& inputs, MapOptions opts) {
    using Info = detail::FnArgs<Fn>;
    using R = typename Info::Result;
    using Args = typename Info::Tuple;
    static_assert(!std::is_void_v<R>, "map needs a function that returns a value");
    auto target = core_->target(detail::task_fn(fn));
    std::vector<Args> all;
    if constexpr (std::ranges::sized_range<Range>) all.reserve(std::ranges::size(inputs));
    for (auto&& item : inputs) all.push_back(detail::as_args<Args, star>(item));
    std::size_t cs = opts.chunksize;
    if (cs == 0) {
      const std::size_t w = 4 * core_->workers();
      cs = std::max<std::size_t>(1, (all.size() + w - 1) / w);
    }
    auto group = std::make_shared<detail::MapGroup<R>>(
        target.name, all.size(), cs, detail::Progress(opts.progress, opts.on_progress, all.size()));
    std::vector<Bytes> chunks;
    chunks.reserve((all.size() + cs - 1) / cs);
    std::vector<Args> items;
    for (std::size_t i = 0; i < all.size(); i += cs) {
      items.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(i)),
                   std::make_move_iterator(
                       all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + cs))));
      chunks.push_back(detail::encode_chunk(target, items));
    }
    if (!chunks.empty()) core_->submit(group, target, std::move(chunks), 0);
    return AsyncResult<std::vector<R>>(group);
  }
  template <bool ordered, class Fn, class Range>
  auto make_imap(Fn fn, Range&& inputs, MapOptions opts) {
    using R = typename detail::FnArgs<Fn>::Result;
    static_assert(!std::is_void_v<R>, "imap needs a function that returns a value");
    return ImapRange<R, Fn, Range, ordered, false>(core_, fn, std::forward<Range>(inputs),
                                                   std::move(opts));
  }

  std::shared_ptr<detail::PoolCore> core_;
};

// Runs workers for the pool `name` on `mgr`'s server (usually another host)
// until that pool is closed. Only tasks registered with MPSHARE_TASK run
// here. Throws TypeMismatch when a task registered here has another
// signature in that pool. `options.processes`: unset cpu_count(), 0 runs one
// worker in the calling process.
void serve_pool(Manager& mgr, const std::string& name, PoolOptions options = {});

}  // namespace mpshare
