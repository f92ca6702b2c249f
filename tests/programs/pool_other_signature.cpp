// A remote worker whose task `square` has another signature than the one
// the tests register: serve_pool must refuse it. Usage: ADDRESS KEYFILE POOL.
// Prints the refusal and exits 3; exits 0 if it was (wrongly) accepted.
#include <cstdio>
#include <mpshare/mpshare.hpp>

long long square(long long x) {
  return x * x;
}
MPSHARE_TASK(square);

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  auto hub = mpshare::Manager::connect(argv[1], mpshare::AuthKey::from_file(argv[2]));
  try {
    mpshare::serve_pool(hub, argv[3], {.processes = 1});
  } catch (const mpshare::TypeMismatch& e) {
    std::printf("refused: %s\n", e.what());
    return 3;
  }
  return 0;
}
