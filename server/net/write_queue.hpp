// The replies a session has yet to write, in order, and the descriptors
// some of them carry. Used only on the event-loop thread. Owned by its
// session; not copyable.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

namespace mpshare::server {

// Handlers append whole reply frames to buffer(); the session writes one
// chunk at a time: next() hands it out, written() or sent_with_fd() retires
// it. Appending goes on while a chunk is being written.
//
// queued() is every byte the peer has not taken yet: the session checks it
// against the output limits (ServerOptions).
class WriteQueue {
 public:
  WriteQueue() = default;
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  std::string& buffer() { return out_; }
  // Nothing waits to be handed out (a chunk may still be in flight).
  bool empty() const { return out_.empty(); }
  std::size_t queued() const { return out_.size() + writing_.size(); }

  // The next byte appended to buffer() carries a duplicate of `fd`; false
  // when it cannot be duplicated. The caller keeps `fd`.
  bool attach_fd(int fd);

  // Bytes to write next, with the descriptor that goes with their first
  // byte (-1: none). A chunk with a descriptor stays in the queue until
  // sent_with_fd(); the others until written(). Not empty() required.
  struct Chunk {
    std::string_view bytes;
    int fd = -1;
  };
  Chunk next();
  // The chunk without a descriptor was written in full. Its buffer is
  // kept for the next chunk up to 64 KiB, given back when larger.
  void written() {
    if (writing_.capacity() > 64 * 1024)
      std::string().swap(writing_);
    else
      writing_.clear();
  }
  // `n` bytes of the chunk with a descriptor were sent, the descriptor
  // with them.
  void sent_with_fd(std::size_t n);

 private:
  struct FdMark {
    std::size_t offset;  // in out_
    int fd;              // owned
  };
  void consume(std::size_t n);

  std::string out_;      // appended to by handlers
  std::string writing_;  // the chunk in flight
  std::deque<FdMark> marks_;
};

}  // namespace mpshare::server
