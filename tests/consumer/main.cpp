// A program outside the project, built against the installed package (by
// CMake's find_package and by pkg-config).
#include <cstdio>
#include <cstring>
#include <mpshare/mpshare.hpp>
#include <mpshare/version.hpp>

int main() {
  static_assert(MPSHARE_VERSION_MAJOR >= 0 && MPSHARE_VERSION_MINOR >= 0 &&
                MPSHARE_VERSION_PATCH >= 0);
  if (std::strcmp(mpshare::version(), MPSHARE_VERSION_STRING) != 0) return 1;
  auto mgr = mpshare::Manager::spawn();
  auto d = mgr.dict<std::string, std::int64_t>("installed");
  d["hits"] += 41;
  d["hits"] += 1;
  if (d.get("hits") != 42) return 1;
  std::printf("consumer ok (mpshare %s)\n", mpshare::version());
  return 0;
}
