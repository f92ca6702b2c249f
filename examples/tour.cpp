// The README's short tour, as a whole program: shared containers, a forked
// child using the parent's proxies, nested proxies, errors. README.md shows
// this file verbatim (tests/readme_check.py keeps them equal).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mpshare/mpshare.hpp>

int main() {
  auto mgr = mpshare::Manager::spawn();  // private server process, private Unix socket
  auto scores = mgr.dict<std::string, std::int64_t>("scores");
  scores.set("alice", 3);
  scores["alice"] += 1;                                  // one atomic server-side increment
  std::optional<std::int64_t> bob = scores.find("bob");  // std::nullopt: no such key
  try {
    scores.get("bob");
  } catch (const mpshare::KeyError& e) {
    std::printf("%s\n", e.what());  // key 'bob' not found in dict 'scores'
  }

  auto log = mgr.list<std::string>("log");
  log.append("started");
  std::string last = log.at(-1);  // Python-style negative index

  pid_t child = fork();
  if (child == 0) {  // the child uses the parent's proxies (over its own connection)
    scores["alice"] += 1;
    log.append("child done");
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);  // the server lives as long as mgr: wait before it goes

  // Nested: a Dict whose values are Lists, shared across processes.
  auto groups = mgr.dict<std::string, mpshare::List<int>>("groups");
  groups.set("evens", mgr.list<int>());
  groups.get("evens").append(2);

  for (const mpshare::ObjectInfo& o : mgr.objects())  // names, kinds, type signatures, sizes
    std::printf("%s: %s, %llu items\n", o.name.c_str(), o.type.c_str(),
                static_cast<unsigned long long>(o.size));
  mgr.remove("log");

  std::printf("alice %lld, bob %s, last log entry '%s', evens %zu\n",
              static_cast<long long>(scores.get("alice")), bob ? "found" : "absent", last.c_str(),
              groups.get("evens").size());
  return scores.get("alice") == 5 && !bob && last == "started" && WIFEXITED(status) &&
                 WEXITSTATUS(status) == 0 && groups.get("evens").size() == 1
             ? 0
             : 1;
}
