// The main demo: an embedded server, several worker processes sharing a
// Dict of word counts and a List of finished chunks.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mpshare/mpshare.hpp>
#include <sstream>
#include <string>
#include <vector>

int main() {
  const std::vector<std::string> chunks = {
      "the quick brown fox jumps over the lazy dog",
      "the dog sleeps and the fox runs",
      "a quick fox and a lazy dog share the yard",
      "every dog has its day and every fox its night",
  };

  auto mgr = mpshare::Manager::spawn();  // private server, stopped when mgr goes away
  auto counts = mgr.dict<std::string, std::int64_t>("counts");
  auto done = mgr.list<int>("done");

  std::vector<pid_t> workers;
  for (int i = 0; i < static_cast<int>(chunks.size()); ++i) {
    pid_t pid = fork();
    if (pid == 0) {  // a worker: uses the parent's proxies over its own connection
      std::istringstream words(chunks[i]);
      for (std::string w; words >> w;) counts[w] += 1;  // one atomic server-side increment
      done.append(i);
      _exit(0);
    }
    workers.push_back(pid);
  }
  int failed = 0;
  for (pid_t pid : workers) {
    int status = 0;
    waitpid(pid, &status, 0);
    failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  // Check against a count made here.
  std::map<std::string, std::int64_t> expected;
  for (const auto& c : chunks) {
    std::istringstream words(c);
    for (std::string w; words >> w;) ++expected[w];
  }
  std::map<std::string, std::int64_t> got;
  for (auto& [w, n] : counts.items()) got[w] = n;

  std::printf("%zu workers finished %zu chunks; %zu distinct words\n", workers.size(), done.size(),
              counts.size());
  for (const char* w : {"the", "fox", "dog", "quick"})
    std::printf("  %-6s %lld\n", w, static_cast<long long>(counts.get_or(w, 0)));
  for (const auto& o : mgr.objects())
    std::printf("  object %-8s %-6s %-22s size %llu\n", o.name.c_str(),
                std::string(mpshare::kind_name(o.kind)).c_str(), o.type.c_str(),
                static_cast<unsigned long long>(o.size));
  bool ok = failed == 0 && got == expected && done.size() == chunks.size();
  std::printf("%s\n", ok ? "result checked: OK" : "result checked: MISMATCH");
  return ok ? 0 : 1;
}
