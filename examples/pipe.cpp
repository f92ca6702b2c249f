// Pipe: one process sends six messages and closes its end, the other
// receives until end of file. The end handed to the child is closed in the
// parent when the child starts, so end of file arrives (the classic
// multiprocessing hang, fixed). Exits non-zero on a wrong result.
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <string>
#include <vector>

struct Reading {
  int sensor = 0;
  double value = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(sensor, value);
  }
};

void sender(mpshare::Connection<Reading> out) {
  for (int i = 0; i < 6; ++i) out.send(Reading{i, i * 1.5});
  out.close();  // also closed when the child ends
}

int main() {
  auto [parent_end, child_end] = mpshare::pipe<Reading>();
  mpshare::Process p(sender, std::move(child_end));
  p.start();

  std::vector<Reading> got;
  try {
    for (;;) got.push_back(parent_end.recv());
  } catch (const mpshare::EOFError&) {
    std::printf("end of file after %zu messages\n", got.size());
  }
  p.join();

  double sum = 0;
  for (const auto& r : got) sum += r.value;
  std::printf("received %zu readings, sum %.1f, sender exit code %d\n", got.size(), sum,
              p.exitcode().value_or(-1));
  return got.size() == 6 && sum == 22.5 && p.exitcode() == 0 ? 0 : 1;
}
