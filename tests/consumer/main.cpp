// A program outside the project, built against the installed package.
#include <cstdio>
#include <mpshare/mpshare.hpp>

int main() {
  auto mgr = mpshare::Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("installed");
  d["hits"] += 41;
  d["hits"] += 1;
  if (d.get("hits") != 42) return 1;
  std::puts("consumer ok");
  return 0;
}
