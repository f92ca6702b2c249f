// mpshare-disconnect-bench: the server CPU one client's connect and
// disconnect cost while the server holds many objects.
//
//   mpshare-disconnect-bench [objects=100000] [clients=2000]
//
// Spawns a server, creates `objects` named Locks, then `clients` times opens
// a fresh connection, pings once and closes it. Reports the spawned
// server's CPU time (utime + stime of /proc/PID/stat) per client, measured
// around the connect/disconnect loop only.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "mpshare/mpshare.hpp"

namespace {

// utime + stime of `pid`, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  const long objects = argc > 1 ? std::atol(argv[1]) : 100000;
  const long clients = argc > 2 ? std::atol(argv[2]) : 2000;
  auto mgr = mpshare::Manager::spawn();
  for (long i = 0; i < objects; ++i) mgr.lock("l" + std::to_string(i));
  const pid_t server = mgr.server_pid();
  const double cpu0 = cpu_seconds(server);
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < clients; ++i) {
    auto client = mpshare::Manager::connect(mgr.address(), mgr.key());
    client.ping();
  }
  mgr.ping();  // every disconnect before it has been handled
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds(server) - cpu0;
  std::printf(
      "objects %ld clients %ld: server cpu %.3f s = %.1f us per connect+disconnect"
      " (wall %.1f us each)\n",
      objects, clients, cpu, cpu / static_cast<double>(clients) * 1e6,
      wall / static_cast<double>(clients) * 1e6);
  return 0;
}
