#include "write_queue.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace mpshare::server {

WriteQueue::~WriteQueue() {
  for (auto& m : marks_) ::close(m.fd);
}

bool WriteQueue::attach_fd(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  marks_.push_back({out_.size(), copy});
  return true;
}

WriteQueue::Chunk WriteQueue::next() {
  if (marks_.empty()) {
    writing_.swap(out_);
    return {writing_};
  }
  if (marks_.front().offset == 0) {
    // This byte goes with the descriptor, up to the next one's byte.
    const std::size_t n = marks_.size() > 1 ? marks_[1].offset : out_.size();
    return {std::string_view(out_.data(), n), marks_.front().fd};
  }
  writing_.assign(out_, 0, marks_.front().offset);
  consume(writing_.size());
  return {writing_};
}

void WriteQueue::sent_with_fd(std::size_t n) {
  ::close(marks_.front().fd);
  marks_.pop_front();
  consume(n);
}

void WriteQueue::consume(std::size_t n) {
  out_.erase(0, n);
  for (auto& m : marks_) m.offset -= n;
}

}  // namespace mpshare::server
