#include "segment_lock.hpp"

#include <cerrno>
#include <cstring>

#include "../log.hpp"

namespace mpshare::server {

namespace {
constexpr auto lock_retry = std::chrono::microseconds(200);
}

SegmentLock::SegmentLock(const Object& owner, pthread_mutex_t* mutex)
    : owner_(owner), mutex_(mutex), waiters_(owner) {}

SegmentLock::~SegmentLock() {
  if (holder_) pthread_mutex_unlock(mutex_);
}

std::optional<bool> SegmentLock::enter(SessionId s, bool keep) {
  if (holder_ == s) {
    if (keep) ++depth_;
    return false;
  }
  bool owner_died = false;
  if (holder_ || !waiters_.empty() || !try_acquire(owner_died)) return std::nullopt;
  holder_ = s;
  depth_ = keep ? 1 : 0;
  return owner_died;
}

void SegmentLock::leave(bool failed_keep) {
  if (failed_keep && depth_ > 0) --depth_;
  if (depth_ == 0) {
    release();
    pump();
  }
}

void SegmentLock::park(Waiter w) {
  waiters_.push(std::move(w), detail::wait_forever);
  pump();
}

void SegmentLock::unlock(SessionId s, const std::function<void()>& before_release) {
  if (holder_ != s) fail(Errc::state_error, "'" + owner_.name() + "' is not locked by this client");
  before_release();
  if (--depth_ == 0) {
    release();
    pump();
  }
}

void SegmentLock::on_disconnect(SessionId s) {
  waiters_.drop_session(s);
  if (holder_ == s) release();
  pump();
}

void SegmentLock::on_remove() {
  waiters_.fail_all_removed();
  if (holder_) release();
}

void SegmentLock::pump() {
  while (!waiters_.empty()) {
    bool owner_died = false;
    if (holder_) return;  // another session holds it: its unlock pumps
    if (!try_acquire(owner_died)) return arm_retry();
    Waiter w = waiters_.pop_front();
    holder_ = w.pending.session_id();
    depth_ = w.keep ? 1 : 0;
    if (!w.run(owner_died) && w.keep && depth_ > 0) --depth_;
    if (depth_ == 0) release();
  }
}

bool SegmentLock::try_acquire(bool& owner_died) {
  int rc = pthread_mutex_trylock(mutex_);
  if (rc == 0) return true;
  if (rc == EOWNERDEAD) {
    pthread_mutex_consistent(mutex_);
    owner_died = true;
    return true;
  }
  if (rc != EBUSY)
    log(LogLevel::error, "'" + owner_.name() + "': pthread_mutex_trylock: " + std::strerror(rc));
  return false;
}

void SegmentLock::release() {
  pthread_mutex_unlock(mutex_);
  holder_.reset();
  depth_ = 0;
}

// A local client holds the mutex: try again shortly, without blocking.
void SegmentLock::arm_retry() {
  if (retry_armed_) return;
  if (!retry_) retry_ = std::make_unique<asio::steady_timer>(owner_.context().io);
  retry_armed_ = true;
  retry_->expires_after(lock_retry);
  retry_->async_wait([this](asio::error_code ec) {
    if (ec) return;  // cancelled: the object may be gone
    retry_armed_ = false;
    pump();
  });
}

}  // namespace mpshare::server
