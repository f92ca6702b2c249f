// Remote workers: a hub whose server also listens on TCP, and worker
// processes that connect to it and serve the named pool "render" until the
// hub closes it. Here the workers are child processes of the hub; on
// another host they would be the same program started with the hub's
// address and key.
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <string>
#include <vector>

std::string render(int frame, std::string scene) {
  return scene + "#" + std::to_string(frame * frame);
}
MPSHARE_TASK(render);

void serve(std::string address, std::string key) {
  auto hub = mpshare::Manager::connect(address, mpshare::AuthKey::from_string(key));
  mpshare::serve_pool(hub, "render", {.processes = 2});
}

int main() {
  mpshare::SpawnOptions options;
  options.extra_listen = {"tcp://127.0.0.1:0"};
  auto mgr = mpshare::Manager::spawn(options);
  const std::string tcp = mgr.addresses().back();

  std::vector<mpshare::Process> workers;
  for (int i = 0; i < 2; ++i) {
    workers.emplace_back(serve, tcp, mgr.key().bytes());
    workers.back().start();
  }

  std::vector<std::tuple<int, std::string>> jobs;
  for (int f = 0; f < 100; ++f) jobs.emplace_back(f, "city");
  std::vector<std::string> frames;
  {
    mpshare::Pool pool(mgr, "render", {.processes = 0});  // remote workers only
    frames = pool.starmap(render, jobs);
    pool.close();
    pool.join();
  }  // the workers' serve_pool returns once the pool is closed
  for (auto& w : workers) {
    w.join();
    if (w.exitcode() != 0) {
      std::fprintf(stderr, "a worker ended with %d\n", w.exitcode().value_or(-1));
      return 1;
    }
  }
  for (int f = 0; f < 100; ++f)
    if (frames[static_cast<std::size_t>(f)] != "city#" + std::to_string(f * f)) {
      std::fprintf(stderr, "frame %d: %s\n", f, frames[static_cast<std::size_t>(f)].c_str());
      return 1;
    }
  std::printf("100 frames rendered by remote workers over %s\n", tcp.c_str());
  return 0;
}
