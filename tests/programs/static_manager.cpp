// A program whose Manager and proxy are static objects: they are destroyed
// at exit, after the main thread's thread_local state. Prints the server's
// pid and its socket address, one a line; exits 0 when all went well.
#include <cstdio>
#include <mpshare/mpshare.hpp>

namespace {

mpshare::Manager& manager() {
  static mpshare::Manager m = mpshare::Manager::spawn();
  return m;
}

}  // namespace

int main() {
  static mpshare::Dict<int, int> d = manager().dict<int, int>("d");
  d.set(1, 41);
  d[1] += 1;
  std::printf("%d\n%s\n", static_cast<int>(manager().server_pid()), manager().address().c_str());
  return d.get(1) == 42 ? 0 : 1;
}
