#include "segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/managed_external_buffer.hpp>
#include <cerrno>
#include <cstring>
#include <mpshare/errors.hpp>
#include <string>

namespace mpshare::server {

namespace {

namespace bip = boost::interprocess;

// The elements start on their own cache line, away from the mutex.
constexpr std::size_t data_alignment = 64;

[[noreturn]] void throw_system(const char* what, int e = errno) {
  throw Error(Errc::remote_error, std::string(what) + ": " + std::strerror(e));
}

}  // namespace

Segment::Segment(const char* label, std::size_t data_bytes, std::size_t align) {
  try {
    create(label, data_bytes, align);
  } catch (...) {
    release();
    throw;
  }
}

void Segment::create(const char* label, std::size_t data_bytes, std::size_t align) {
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
  if (rc != 0) throw_system("pthread_mutex_init", rc);
}

void Segment::release() {
  if (base_) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
  base_ = nullptr;
  fd_ = -1;
}

}  // namespace mpshare::server
