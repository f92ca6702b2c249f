// mpshare-bench: ops/s and p50/p99 latency of mpshare operations for 1..N
// concurrent client processes, over Unix and TCP, in default and
// low-latency mode, each next to the matching raw socket ping-pong (the
// machine's floor) measured in the same run.
//
// Harness: every measurement forks its client processes; each sets up its
// objects, reports ready, waits for a common start, runs its operation for
// the measurement time recording every latency, and sends its counts and
// samples back over a pipe. The parent aggregates.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <mpshare/mpshare.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t max_samples_per_client = 200000;
constexpr std::chrono::microseconds server_spin{200};
constexpr std::chrono::microseconds client_spin{200};

struct Config {
  std::string transport = "unix";  // unix | tcp
  std::string mode = "default";    // default | lowlat
  int clients = 1;
};

struct Result {
  std::string workload;
  Config cfg;
  double items_per_s = 0;  // items (a batch counts its size)
  double ops_per_s = 0;    // timed operations (a batch counts once)
  double p50_us = 0, p99_us = 0;
  double floor_ratio = 0;  // items_per_s / matching raw ping-pong round trips per second
  std::string floor;
};

// One client's body: set up, then return the operation to time. The
// operation returns how many items it moved (0: it does not count, e.g. a
// producer whose consumer does the counting).
using Op = std::function<std::size_t()>;
using Setup = std::function<Op(int index)>;

struct ClientReport {
  std::uint64_t ops = 0, items = 0;
  double seconds = 0;
  std::vector<float> samples_us;
};

void write_all(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(3);
    c += w;
    n -= static_cast<std::size_t>(w);
  }
}

bool read_all(int fd, void* p, std::size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    ssize_t r = ::read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    c += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

double percentile(std::vector<float>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Runs `setup` in `clients` processes for `duration`; aggregates.
Result measure(const std::string& workload, const Config& cfg, std::chrono::milliseconds duration,
               const Setup& setup) {
  int ready[2], go[2];
  if (::pipe(ready) != 0 || ::pipe(go) != 0) throw std::runtime_error("pipe");
  std::vector<pid_t> pids;
  std::vector<int> report_fds;
  std::fflush(nullptr);
  for (int i = 0; i < cfg.clients; ++i) {
    int rep[2];
    if (::pipe(rep) != 0) throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
      ::close(go[1]);
      ::close(ready[0]);
      ::close(rep[0]);
      for (int fd : report_fds) ::close(fd);
      int code = 0;
      try {
        Op op = setup(i);
        char b = 1;
        write_all(ready[1], &b, 1);
        char x;
        while (::read(go[0], &x, 1) < 0 && errno == EINTR) {
        }
        ClientReport r;
        r.samples_us.reserve(max_samples_per_client);
        const auto start = Clock::now();
        const auto until = start + duration;
        auto t0 = start;
        for (;;) {
          std::size_t items = op();
          auto t1 = Clock::now();
          if (items > 0) {
            ++r.ops;
            r.items += items;
            if (r.samples_us.size() < max_samples_per_client)
              r.samples_us.push_back(std::chrono::duration<float, std::micro>(t1 - t0).count());
          }
          t0 = t1;
          if (t1 >= until) break;
        }
        r.seconds = std::chrono::duration<double>(t0 - start).count();
        std::uint64_t n = r.samples_us.size();
        write_all(rep[1], &r.ops, sizeof r.ops);
        write_all(rep[1], &r.items, sizeof r.items);
        write_all(rep[1], &r.seconds, sizeof r.seconds);
        write_all(rep[1], &n, sizeof n);
        write_all(rep[1], r.samples_us.data(), n * sizeof(float));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "mpshare-bench: %s client %d: %s\n", workload.c_str(), i, e.what());
        code = 1;
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    ::close(rep[1]);
    pids.push_back(pid);
    report_fds.push_back(rep[0]);
  }
  ::close(ready[1]);
  ::close(go[0]);
  int n_ready = 0;
  char b;
  while (n_ready < cfg.clients && read_all(ready[0], &b, 1)) ++n_ready;
  ::close(ready[0]);
  ::close(go[1]);  // start
  Result res;
  res.workload = workload;
  res.cfg = cfg;
  std::vector<float> all;
  bool failed = n_ready < cfg.clients;
  for (int fd : report_fds) {
    ClientReport r;
    std::uint64_t n = 0;
    if (read_all(fd, &r.ops, sizeof r.ops) && read_all(fd, &r.items, sizeof r.items) &&
        read_all(fd, &r.seconds, sizeof r.seconds) && read_all(fd, &n, sizeof n)) {
      std::size_t at = all.size();
      all.resize(at + n);
      if (!read_all(fd, all.data() + at, n * sizeof(float))) failed = true;
      if (r.seconds > 0) {
        res.items_per_s += static_cast<double>(r.items) / r.seconds;
        res.ops_per_s += static_cast<double>(r.ops) / r.seconds;
      }
    } else {
      failed = true;
    }
    ::close(fd);
  }
  for (pid_t p : pids) {
    int status = 0;
    ::waitpid(p, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = true;
  }
  if (failed) {
    std::fprintf(stderr, "mpshare-bench: %s (%s, %s, %d clients) failed\n", workload.c_str(),
                 cfg.transport.c_str(), cfg.mode.c_str(), cfg.clients);
    res.items_per_s = res.ops_per_s = 0;
  }
  res.p50_us = percentile(all, 0.50);
  res.p99_us = percentile(all, 0.99);
  return res;
}

// ---- raw ping-pong: the floor ---------------------------------------------

constexpr std::size_t ping_size = 32;  // about one small request frame

// Blocking or busy-polling exchange of one message; false at EOF.
bool xfer(int fd, char* buf, bool send_first, bool busy) {
  auto do_recv = [&] {
    std::size_t got = 0;
    while (got < ping_size) {
      ssize_t r = ::recv(fd, buf + got, ping_size - got, busy ? MSG_DONTWAIT : 0);
      if (r > 0)
        got += static_cast<std::size_t>(r);
      else if (r == 0)
        return false;
      else if (errno != EAGAIN && errno != EINTR)
        return false;
    }
    return true;
  };
  auto do_send = [&] { return ::send(fd, buf, ping_size, MSG_NOSIGNAL) == ping_size; };
  if (send_first) return do_send() && do_recv();
  return do_recv() && do_send();
}

// A connected pair of sockets for the transport.
std::pair<int, int> socket_pair(const std::string& transport) {
  if (transport == "unix") {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      throw std::runtime_error("socketpair");
    return {sv[0], sv[1]};
  }
  int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("tcp listen");
  int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("tcp connect");
  int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(l);
  int one = 1;
  ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return {c, s};
}

Setup raw_pingpong(const std::string& transport, bool busy) {
  return [=](int) -> Op {
    auto [mine, theirs] = socket_pair(transport);
    pid_t echo = ::fork();
    if (echo == 0) {
      ::close(mine);
      char buf[ping_size];
      while (xfer(theirs, buf, false, busy)) {
      }
      ::_exit(0);
    }
    ::close(theirs);
    // The echo process ends at EOF when this client exits.
    auto buf = std::make_shared<std::array<char, ping_size>>();
    return [=]() -> std::size_t {
      if (!xfer(mine, buf->data(), true, busy)) throw std::runtime_error("echo gone");
      return 1;
    };
  };
}

// ---- mpshare workloads ----------------------------------------------------

struct Target {
  std::string address;  // where clients connect
  mpshare::AuthKey key;
  mpshare::ConnectOptions options;
};

// A client's own Manager: a fresh connection from this process.
mpshare::Manager attach(const Target& t) {
  return mpshare::Manager::connect(t.address, t.key, t.options);
}

std::string key_of(int client, std::size_t i) {
  return "c" + std::to_string(client) + "k" + std::to_string(i % 1000);
}

struct Workload {
  std::string name;
  bool counts_items;  // batched: items per op > 1
  std::function<Setup(const Target&, const std::string& object)> make;
};

std::vector<Workload> workloads() {
  using mpshare::Manager;
  std::vector<Workload> w;
  w.push_back({"dict set", false, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int c) -> Op {
                   auto m = std::make_shared<Manager>(attach(t));
                   auto d = m->dict<std::string, std::int64_t>(obj);
                   auto i = std::make_shared<std::size_t>(0);
                   return [=]() mutable -> std::size_t {
                     d.set(key_of(c, (*i)++), 1);
                     return 1;
                   };
                 };
               }});
  w.push_back({"dict get", false, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int c) -> Op {
                   auto m = std::make_shared<Manager>(attach(t));
                   auto d = m->dict<std::string, std::int64_t>(obj);
                   std::vector<std::pair<std::string, std::int64_t>> init;
                   for (std::size_t k = 0; k < 1000; ++k) init.emplace_back(key_of(c, k), 7);
                   d.update_range(init);
                   auto i = std::make_shared<std::size_t>(0);
                   return [=]() mutable -> std::size_t {
                     if (d.get(key_of(c, (*i)++)) != 7) throw std::runtime_error("bad value");
                     return 1;
                   };
                 };
               }});
  w.push_back({"list append", false, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int) -> Op {
                   auto m = std::make_shared<Manager>(attach(t));
                   auto l = m->list<std::int64_t>(obj);
                   return [=]() mutable -> std::size_t {
                     l.append(42);
                     return 1;
                   };
                 };
               }});
  for (std::size_t n : {std::size_t{16}, std::size_t{256}}) {
    w.push_back({"dict set batch " + std::to_string(n), true,
                 [n](const Target& t, const std::string& obj) -> Setup {
                   return [=](int c) -> Op {
                     auto m = std::make_shared<Manager>(attach(t));
                     auto d = m->dict<std::string, std::int64_t>(obj);
                     std::vector<std::string> keys;
                     for (std::size_t k = 0; k < 1000; ++k) keys.push_back(key_of(c, k));
                     auto i = std::make_shared<std::size_t>(0);
                     return [=]() mutable -> std::size_t {
                       mpshare::Batch b(*m);
                       for (std::size_t k = 0; k < n; ++k)
                         b.set(d, keys[(*i)++ % keys.size()], std::int64_t{1});
                       b.run();
                       return n;
                     };
                   };
                 }});
  }
  w.push_back({"dict 1MiB set+get", false, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int c) -> Op {
                   auto m = std::make_shared<Manager>(attach(t));
                   auto d = m->dict<std::string, std::string>(obj);
                   auto value = std::string(1 << 20, static_cast<char>('a' + c % 26));
                   std::string key = "big" + std::to_string(c);
                   return [=]() mutable -> std::size_t {
                     d.set(key, value);
                     if (d.get(key).size() != value.size()) throw std::runtime_error("bad value");
                     return 1;
                   };
                 };
               }});
  // Producer -> consumer: even clients put, odd clients get and count.
  for (std::size_t n : {std::size_t{1}, std::size_t{64}}) {
    w.push_back({n == 1 ? "queue put->get" : "queue put_many->get_many 64", n > 1,
                 [n](const Target& t, const std::string& obj) -> Setup {
                   return [=](int c) -> Op {
                     auto m = std::make_shared<Manager>(attach(t));
                     auto q = m->queue<std::int64_t>(obj + "." + std::to_string(c / 2), 100000);
                     std::vector<std::int64_t> items(n, 5);
                     if (c % 2 == 0)
                       return [=]() mutable -> std::size_t {
                         if (n == 1)
                           q.put(std::int64_t{5}, 50ms);
                         else
                           q.put_many(items, 50ms);
                         return 0;
                       };
                     return [=]() mutable -> std::size_t {
                       if (n == 1) return q.get(50ms) ? 1 : 0;
                       return q.get_many(n, 50ms).size();
                     };
                   };
                 }});
  }
  w.push_back({"lock acquire+release", false, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int) -> Op {
                   auto m = std::make_shared<Manager>(attach(t));
                   auto l = m->lock(obj);
                   return [=]() mutable -> std::size_t {
                     l.acquire();
                     l.release();
                     return 1;
                   };
                 };
               }});
  w.push_back({"event set", false, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int) -> Op {
                   auto m = std::make_shared<Manager>(attach(t));
                   auto e = m->event(obj);
                   return [=]() mutable -> std::size_t {
                     e.set();
                     return 1;
                   };
                 };
               }});
  w.push_back({"value fetch_add rpc", false, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int) -> Op {
                   Target rpc = t;
                   rpc.options.map_shared_memory = false;
                   auto m = std::make_shared<Manager>(attach(rpc));
                   auto v = m->value<std::int64_t>(obj, 0);
                   return [=]() mutable -> std::size_t {
                     v.fetch_add(1);
                     return 1;
                   };
                 };
               }});
  // Shared memory: timed in runs of 1000 (a clock read costs about as much
  // as the operation); latency is per operation.
  w.push_back({"value fetch_add local", true, [](const Target& t, const std::string& obj) -> Setup {
                 return [=](int) -> Op {
                   auto m = std::make_shared<Manager>(attach(t));
                   auto v = m->value<std::int64_t>(obj, 0);
                   return [=]() mutable -> std::size_t {
                     for (int k = 0; k < 1000; ++k) v.fetch_add(1);
                     return 1000;
                   };
                 };
               }});
  return w;
}

// ---- the run ----------------------------------------------------------------

struct Options {
  bool json = false;
  bool quick = false;
  std::string filter;
  std::vector<int> clients{1, 2, 16};
  std::chrono::milliseconds duration{700};
};

struct Servers {
  mpshare::Manager normal, lowlat;
};

Target target_for(const Servers& s, const Config& cfg) {
  const mpshare::Manager& m = cfg.mode == "lowlat" ? s.lowlat : s.normal;
  Target t;
  t.key = m.key();
  for (const auto& a : m.addresses())
    if (a.rfind(cfg.transport == "unix" ? "unix:" : "tcp:", 0) == 0) t.address = a;
  if (cfg.mode == "lowlat") t.options.spin = client_spin;
  return t;
}

std::string fmt(double v, int prec = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

int run(const Options& opt) {
  std::vector<Config> full, small;
  for (std::string tr : {"unix", "tcp"})
    for (std::string mode : {"default", "lowlat"})
      for (int n : opt.clients) full.push_back({tr, mode, n});
  small.push_back({"unix", "default", 1});
  small.push_back({"unix", "lowlat", 1});
  if (opt.clients.back() > 1) small.push_back({"unix", "default", opt.clients.back()});

  mpshare::SpawnOptions so;
  so.extra_listen = {"tcp://127.0.0.1:0"};
  mpshare::SpawnOptions lo = so;
  lo.server_spin = server_spin;
  lo.connect.spin = client_spin;
  Servers servers{mpshare::Manager::spawn(so), mpshare::Manager::spawn(lo)};

  auto wanted = [&](const std::string& name) {
    return opt.filter.empty() || name.find(opt.filter) != std::string::npos;
  };

  std::vector<Result> results;
  auto report = [&](const Result& r) {
    results.push_back(r);
    if (!opt.json)
      std::fprintf(stderr, "  %-28s %-4s %-7s %2d clients: %12.0f/s\n", r.workload.c_str(),
                   r.cfg.transport.c_str(), r.cfg.mode.c_str(), r.cfg.clients, r.items_per_s);
  };

  // Floors: blocking ping-pong for default mode, busy-poll for low-latency.
  std::vector<Config> floor_cfgs;
  for (const auto& c : full) floor_cfgs.push_back(c);
  for (const auto& c : floor_cfgs) {
    const bool busy = c.mode == "lowlat";
    std::string name = busy ? "raw ping-pong busy-poll" : "raw ping-pong blocking";
    report(measure(name, c, opt.duration, raw_pingpong(c.transport, busy)));
  }

  int serial = 0;
  for (const auto& w : workloads()) {
    if (!wanted(w.name)) continue;
    const bool core = w.name == "dict set" || w.name == "dict get";
    std::vector<Config> cfgs = core ? full : small;
    if (w.name.rfind("queue", 0) == 0) {
      // One producer and one consumer; with more clients, that many pairs.
      cfgs = {{"unix", "default", 2}, {"unix", "lowlat", 2}, {"tcp", "default", 2}};
    }
    if (w.name == "value fetch_add local") cfgs = {{"unix", "default", 1}, {"unix", "default", 2}};
    for (const auto& c : cfgs) {
      Target t = target_for(servers, c);
      std::string obj = "bench." + std::to_string(++serial);
      auto& mgr = c.mode == "lowlat" ? servers.lowlat : servers.normal;
      try {
        report(measure(w.name, c, opt.duration, w.make(t, obj)));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "mpshare-bench: %s: %s\n", w.name.c_str(), e.what());
      }
      // Free what the run stored (queues are per pair).
      for (const auto& o : mgr.objects())
        if (o.name.rfind(obj, 0) == 0) mgr.remove(o.name);
    }
  }

  // Ratios to the matching floor.
  for (auto& r : results) {
    if (r.workload.rfind("raw", 0) == 0) continue;
    const bool busy = r.cfg.mode == "lowlat";
    std::string fname = busy ? "raw ping-pong busy-poll" : "raw ping-pong blocking";
    for (const auto& f : results)
      if (f.workload == fname && f.cfg.transport == r.cfg.transport && f.cfg.mode == r.cfg.mode &&
          f.cfg.clients == std::min(r.cfg.clients, opt.clients.back()) && f.items_per_s > 0) {
        r.floor_ratio = r.items_per_s / f.items_per_s;
        r.floor = fname;
      }
  }

  if (opt.json) {
    std::ostringstream o;
    o << "{\"results\": [\n";
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      o << "  {\"workload\": \"" << json_escape(r.workload) << "\", \"transport\": \""
        << r.cfg.transport << "\", \"mode\": \"" << r.cfg.mode
        << "\", \"clients\": " << r.cfg.clients << ", \"items_per_s\": " << fmt(r.items_per_s, 1)
        << ", \"ops_per_s\": " << fmt(r.ops_per_s, 1) << ", \"p50_us\": " << fmt(r.p50_us, 2)
        << ", \"p99_us\": " << fmt(r.p99_us, 2) << ", \"floor_ratio\": " << fmt(r.floor_ratio, 3)
        << "}" << (i + 1 < results.size() ? "," : "") << "\n";
    }
    o << "]}\n";
    std::cout << o.str();
    return 0;
  }
  std::printf("%-28s %-5s %-8s %7s %14s %10s %10s %9s\n", "workload", "via", "mode", "clients",
              "per second", "p50 us", "p99 us", "x floor");
  for (const auto& r : results) {
    std::printf("%-28s %-5s %-8s %7d %14s %10s %10s %9s\n", r.workload.c_str(),
                r.cfg.transport.c_str(), r.cfg.mode.c_str(), r.cfg.clients,
                fmt(r.items_per_s).c_str(), fmt(r.p50_us, 1).c_str(), fmt(r.p99_us, 1).c_str(),
                r.floor.empty() ? "" : fmt(r.floor_ratio, 2).c_str());
  }
  std::printf(
      "\nper second: items (a batch of n counts n; queues count items received).\n"
      "x floor: per second / raw ping-pong round trips per second on the same transport,\n"
      "         clients and mode (blocking for default, busy-poll for lowlat).\n"
      "lowlat: server polls %lld us after activity, clients spin %lld us on a reply.\n",
      static_cast<long long>(server_spin.count()), static_cast<long long>(client_spin.count()));
  return 0;
}

constexpr const char* usage =
    R"(usage: mpshare-bench [--quick] [--json] [--filter TEXT] [--clients 1,2,16]
                     [--duration-ms N]

Measures ops/s and p50/p99 latency of mpshare operations (dict, list, batch,
queue, lock, event, value) for 1 and N client processes over Unix and TCP,
in default and low-latency mode, next to a raw socket ping-pong measured in
the same run. Prints a table, or JSON with --json. Takes under 2 minutes;
--quick about 20 seconds.
)";

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n" << usage;
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--json") {
      opt.json = true;
    } else if (a == "--quick") {
      opt.quick = true;
      opt.duration = 150ms;
    } else if (a == "--filter") {
      opt.filter = value();
    } else if (a == "--duration-ms") {
      opt.duration = std::chrono::milliseconds(std::stoi(value()));
    } else if (a == "--clients") {
      opt.clients.clear();
      std::stringstream ss(value());
      for (std::string p; std::getline(ss, p, ',');) opt.clients.push_back(std::stoi(p));
      std::sort(opt.clients.begin(), opt.clients.end());
      if (opt.clients.empty() || opt.clients.front() < 1) {
        std::cerr << "--clients needs positive counts\n";
        return 2;
      }
    } else if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    } else {
      std::cerr << "unknown option " << a << "\n" << usage;
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return run(opt);
  } catch (const std::exception& e) {
    std::cerr << "mpshare-bench: " << e.what() << "\n";
    return 1;
  }
}
