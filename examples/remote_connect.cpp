// A server reachable over TCP and a client connecting to it with a key
// file, as README.md shows it (the connecting part verbatim). The server
// here is spawned; a standalone mpshare-server is reached the same way.
// Exits non-zero on a wrong result.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <string>

int main() {
  mpshare::SpawnOptions options;
  options.extra_listen = {"tcp://127.0.0.1:0"};
  auto server = mpshare::Manager::spawn(options);
  const std::string address = server.addresses().back();  // tcp://127.0.0.1:<port>
  char key_file[] = "/tmp/mpshare-key-XXXXXX";            // mode 0600
  int fd = mkstemp(key_file);
  const std::string& key = server.key().bytes();
  if (fd < 0 || write(fd, key.data(), key.size()) != static_cast<ssize_t>(key.size())) return 1;
  close(fd);

  auto mgr = mpshare::Manager::connect(address, mpshare::AuthKey::from_file(key_file));
  auto jobs = mgr.dict<std::string, std::int64_t>("jobs");

  jobs["done"] += 1;
  unlink(key_file);
  std::printf("connected to %s, jobs done %lld\n", address.c_str(),
              static_cast<long long>(server.dict<std::string, std::int64_t>("jobs").get("done")));
  return jobs.get("done") == 1 ? 0 : 1;
}
