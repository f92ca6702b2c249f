// A Process sending strings through a Pipe until end of file, as README.md
// shows it (verbatim). Exits non-zero on a wrong result.
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <string>

void sender(mpshare::Connection<std::string> out) {
  for (int i = 0; i < 6; ++i) out.send("message " + std::to_string(i));
}

int main() {
  int received = 0;

  auto [mine, theirs] = mpshare::pipe<std::string>();
  mpshare::Process p(sender, std::move(theirs));  // `theirs` is closed here once p starts
  p.start();
  try {
    for (;; ++received) std::puts(mine.recv().c_str());
  } catch (const mpshare::EOFError&) {
    // arrives: no copy of `theirs` is left open
  }
  p.join();  // p.exitcode(): 0, 1 (threw), n (exit(n)), -N (signal N)

  return received == 6 && p.exitcode() == 0 ? 0 : 1;
}
