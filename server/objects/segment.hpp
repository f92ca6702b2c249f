// The shared memory behind Value and Array (docs/SHARED_MEMORY.md).
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>

namespace mpshare::server {

// An anonymous memfd mapped read-write, laid out by Boost.Interprocess: a
// robust, process-shared, recursive mutex, then the elements on their own
// cache line. Nothing of it has a name in any file system; the memory lives
// until the last mapping (server or client) is gone. Not copyable.
class Segment {
 public:
  // Throws Error (remote_error) when the system refuses.
  Segment(const char* label, std::size_t data_bytes, std::size_t align);
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
  void create(const char* label, std::size_t data_bytes, std::size_t align);
  void release();

  int fd_ = -1;
  std::size_t size_ = 0;
  char* base_ = nullptr;
  pthread_mutex_t* mutex_ = nullptr;
  char* data_ = nullptr;
  std::uint64_t mutex_offset_ = 0, data_offset_ = 0;
};

}  // namespace mpshare::server
