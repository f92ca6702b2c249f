#include "mpshare/detail/shared_memory.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "connection.hpp"

namespace mpshare::detail {

SharedBlock::~SharedBlock() {
  if (base_) ::munmap(base_, layout_.segment_size);
}

void SharedBlock::attach() {
  const bool want_fd = core_->is_local() && core_->options().map_shared_memory;
  Connection& c = core_->connection();
  SharedLayout l = core_->call<op::SharedAttach>(id_, want_fd);
  int fd = want_fd ? c.take_fd() : -1;
  if (fd >= 0 && l.fd_passed) {
    struct stat st {};
    const std::uint64_t data_end = l.data_offset + l.count * l.elem_size;
    bool ok = ::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) >= l.segment_size &&
              l.mutex_offset + sizeof(pthread_mutex_t) <= l.segment_size &&
              data_end <= l.segment_size;
    void* p = ok ? ::mmap(nullptr, l.segment_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                 : MAP_FAILED;
    int err = errno;
    ::close(fd);
    if (!ok) throw ProtocolError("the server sent a bad shared memory layout");
    if (p == MAP_FAILED)
      throw Error(Errc::remote_error, std::string("mmap: ") + std::strerror(err));
    base_ = static_cast<char*>(p);
    mutex_ = reinterpret_cast<pthread_mutex_t*>(base_ + l.mutex_offset);
    data_ = base_ + l.data_offset;
  } else if (fd >= 0) {
    ::close(fd);
  }
  layout_ = l;
}

bool SharedBlock::lock_local() {
  int rc = pthread_mutex_lock(mutex_);
  if (rc == 0) return false;
  if (rc == EOWNERDEAD) {
    pthread_mutex_consistent(mutex_);
    return true;
  }
  throw StateError(std::string("cannot lock the shared memory object: ") + std::strerror(rc));
}

void SharedBlock::unlock_local() {
  pthread_mutex_unlock(mutex_);
}

bool SharedBlock::lock() {
  if (mapped()) return lock_local();
  return core_->call_wait<op::SharedLock>(id_, std::nullopt).owner_died;
}

void SharedBlock::unlock() {
  if (mapped()) return unlock_local();
  core_->call<op::SharedUnlock>(id_, std::optional<Bytes>());
}

}  // namespace mpshare::detail
