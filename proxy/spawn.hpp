// Manager::spawn's server process: the mpshare-server program started with
// posix_spawn, owned by the process that spawned it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mpshare/manager.hpp"

namespace mpshare {

// Not copyable. Only the spawning process (owner) stops the server or
// removes its directory; copies inherited by forked children do nothing.
struct Manager::Spawned {
  pid_t owner = 0;    // the spawning process
  pid_t server = 0;   // the server process
  int lifeline = -1;  // write end; the server stops when every copy is closed
  std::uint64_t lifeline_generation = 0;
  std::string dir;  // private 0700 directory holding the 0600 socket
  std::string socket;
  std::vector<std::string> addresses;  // bound addresses, the socket's first

  // Starts the server and waits until it listens. Throws Error when the
  // program is missing (naming every place looked) or cannot start.
  static std::unique_ptr<Spawned> start(const SpawnOptions& options, const AuthKey& key);

  Spawned() = default;
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;
  ~Spawned() { stop(std::chrono::seconds(5)); }

  // Closes the lifeline and reaps the server (SIGKILL after `grace`).
  // Idempotent.
  void stop(std::chrono::milliseconds grace);
};

namespace detail {

// Where Manager::spawn looks for the server program, in order. The first
// of `configured` (SpawnOptions::server_program) and `environment`
// ($MPSHARE_SERVER) that is set decides, and must be executable; when
// neither is set, the installed program, else the build tree's.
struct ServerSearch {
  std::string configured;
  std::string environment;
  std::string installed;
  std::string build_tree;
};
ServerSearch default_server_search(const std::string& configured);
// The program to run. Throws Error naming every place looked when none is
// there.
std::string find_server_program(const ServerSearch& search);

}  // namespace detail
}  // namespace mpshare
