// Where mpshare follows Python's multiprocessing: nested proxies, objects
// created with contents, list and set methods, array slices. README.md
// shows the middle of main() verbatim. Exits non-zero on a wrong result.
#include <cstdio>
#include <mpshare/mpshare.hpp>
#include <vector>

int main() {
  auto mgr = mpshare::Manager::spawn();

  // Proxies nest in any container: Dict in Dict, Dict in List, List in Dict,
  // Queue<Dict<...>>, Set<List<...>>. A child that takes one out uses it at once.
  auto rows = mgr.list<mpshare::Dict<std::string, int>>("rows");
  rows.append(mgr.dict<std::string, int>());
  rows.at(0)["hits"] += 1;

  // Created with contents: applied only when this call creates the object,
  // in one atomic step (nobody sees it half filled); a reopen ignores them.
  auto d = mgr.dict<std::string, int>("d", {{"a", 1}, {"b", 2}});
  auto l = mgr.list<int>("l", {3, 1, 2});
  auto f = mgr.dict_fromkeys<std::string, int>("f", {"x", "y"}, 0);  // dict.fromkeys
  auto last = d.popitem();  // {"b", 2}: the last inserted, as Python's

  l.sort();                      // on the server: arithmetic, bool and string elements only
  l.sort(/*reverse=*/true);      // stable; not offered (does not compile) for other types
  l.set_slice(0, 2, {7, 8, 9});  // l[0:2] = [7, 8, 9]
  l.erase(1, 3);                 // del l[1:3]
  l.repeat(3);                   // l *= 3

  auto seen = mgr.set<std::string>("seen");  // Python 3.14's manager set
  bool added = seen.add("a");                // true: it was new
  seen.discard("a");
  try {
    seen.remove("b");  // KeyError: not there
  } catch (const mpshare::KeyError& e) {
    std::printf("%s\n", e.what());
  }
  seen.update({"x", "y"});
  std::string some = seen.pop();  // one of them
  std::vector<std::string> rest = seen.to_vector();

  auto a = mgr.array<double>("a", {1, 2, 3, 4});
  std::vector<double> middle = a.slice(1, 3);  // a[1:3], one snapshot under the array's lock
  a.store_slice(2, {9.0, 9.5});                // a[2:4] = ..., one write under the lock

  const bool ok = rows.at(0).get("hits") == 1 && last == std::pair<std::string, int>{"b", 2} &&
                  f.size() == 2 && l.to_vector() == std::vector<int>{7, 1, 7, 1, 7, 1} && added &&
                  rest.size() == 1 && rest[0] != some && middle == std::vector<double>{2, 3} &&
                  a.to_vector() == std::vector<double>{1, 2, 9.0, 9.5};
  std::printf("list %zu items, set kept %zu, array %g %g %g %g: %s\n", l.size(), rest.size(), a[0],
              a[1], a[2], a[3], ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
