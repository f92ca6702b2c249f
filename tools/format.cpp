#include "format.hpp"

#include <algorithm>
#include <cstdio>

namespace mpshare::cli {

namespace {

// Rows of cells printed in columns, each as wide as its widest cell; the
// last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string str() const {
    std::vector<std::size_t> width;
    for (const auto& r : rows_) {
      width.resize(std::max(width.size(), r.size()));
      for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows_) {
      std::string line;
      for (std::size_t i = 0; i < r.size(); ++i) {
        line += r[i];
        if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return parts.empty() ? "-" : out;
}

std::string holding(const Holding& h) {
  std::string s = "session " + std::to_string(h.session);
  if (h.pid != 0) s += " pid " + std::to_string(h.pid);
  if (h.what == "lock") {
    s += " token " + std::to_string(h.token);
    if (h.count > 1) s += " x" + std::to_string(h.count);
  } else {
    s += " " + std::to_string(h.count) + " " + h.what;
  }
  return s;
}

std::string client_object(const ClientObject& o, bool waiting) {
  std::string s = o.kind + " '" + o.object + "'";
  if (waiting) return o.what + " " + s + " for " + human_duration(o.waiting_s);
  if (o.what == "lock") return s + " token " + std::to_string(o.token);
  return std::to_string(o.count) + " " + o.what + " of " + s;
}

}  // namespace

std::string human_bytes(std::uint64_t n) {
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return fixed(v, 1) + " " + units[u];
}

std::string human_duration(double s) {
  if (s < 60) return fixed(s, 1) + "s";
  const auto t = static_cast<long long>(s);
  char buf[64];
  if (t < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else if (t < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, t % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
  return buf;
}

std::string info_table(const ServerInfo& i) {
  Table t({"", ""});
  t.add({"version", i.version});
  t.add({"pid", std::to_string(i.pid)});
  t.add({"uptime", human_duration(i.uptime_s)});
  t.add({"addresses", join(i.addresses, " ")});
  t.add({"sessions",
         std::to_string(i.sessions) + " (" + std::to_string(i.sessions_total) + " since start)"});
  t.add({"objects", std::to_string(i.objects)});
  t.add({"memory (rss)", human_bytes(i.memory_rss_bytes)});
  t.add({"requests", std::to_string(i.requests) + " (" + fixed(i.request_rate, 1) + "/s)"});
  t.add({"bytes in", human_bytes(i.bytes_in)});
  t.add({"bytes out", human_bytes(i.bytes_out)});
  t.add({"auth failures", std::to_string(i.auth_failures)});
  t.add({"shutdown", i.allow_shutdown ? "any client" : "the spawning process only"});
  std::string out = t.str().substr(1);  // the empty header line
  if (i.ops.empty()) return out;
  Table ops({"OP", "COUNT", "ERRORS", "RATE/S"});
  for (const OpStats& o : i.ops)
    ops.add({o.op, std::to_string(o.count), std::to_string(o.errors), fixed(o.rate, 1)});
  return out + "\n" + ops.str();
}

std::string clients_table(const std::vector<ClientInfo>& clients) {
  Table t({"SESSION", "PEER", "CONNECTED", "REQUESTS", "IN", "OUT", "HOLDS", "WAITS"});
  for (const ClientInfo& c : clients) {
    std::vector<std::string> holds, waits;
    for (const auto& h : c.holds) holds.push_back(client_object(h, false));
    for (const auto& w : c.waits) waits.push_back(client_object(w, true));
    std::string session = std::to_string(c.session);
    if (c.is_caller) session += "*";
    if (!c.authenticated) session += "?";
    t.add({session, c.peer, human_duration(c.connected_s), std::to_string(c.requests),
           human_bytes(c.bytes_in), human_bytes(c.bytes_out), join(holds, "; "),
           join(waits, "; ")});
  }
  return t.str();
}

std::string objects_table(const std::vector<ObjectDetail>& objects) {
  Table t({"NAME", "KIND", "SIZE", "HOLDERS", "WAITERS", "STATE"});
  for (const ObjectDetail& d : objects) {
    std::vector<std::string> holders, state;
    for (const auto& h : d.holders) holders.push_back(holding(h));
    for (const auto& [k, v] : d.state) state.push_back(k + "=" + std::to_string(v));
    std::string waiters = std::to_string(d.waiters.size());
    if (!d.waiters.empty()) {
      std::vector<std::string> who;
      for (const auto& w : d.waiters)
        who.push_back("session " + std::to_string(w.session) + " " + w.op);
      waiters += " (" + join(who, ", ") + ")";
    }
    t.add({d.name, d.kind, std::to_string(d.size), join(holders, "; "), waiters, join(state, " ")});
  }
  return t.str();
}

}  // namespace mpshare::cli
