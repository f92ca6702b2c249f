// Manager: the handle to a server. Manager::spawn() starts a private server
// process; Manager::connect() attaches to a running mpshare-server. Object
// factories create a named object or open the existing one (TypeMismatch if
// it has another kind or type); without a name they create an anonymous one.
//
// Lifetime of anonymous objects: the server frees one once no reference to
// it is left, like the reference counts of Python's manager (its proxies
// then get NoSuchObject). References are held by
// - each client process holding a proxy of it: taken when the process
//   creates the object or receives a proxy of it from that server (get, pop,
//   queue get, items...), given back (the Release op) when the process's
//   last proxy of it is destroyed, and dropped by the server when the
//   process exits, however it ends. Over TCP or TLS the server cannot see
//   processes: a reference is then held by the connection of the thread
//   that created or received the proxy, and goes when that connection
//   closes (keep such a thread, or the object's name, while others use it);
// - each copy of a proxy stored in a Dict, List, Set or Queue of the same
//   server, until it is removed (pop, erase, overwrite, clear, get) or the
//   container itself is freed.
// A forked child (Process) uses the parent's reference for the proxies it
// inherits: the Process object keeps its arguments, and so the reference,
// until the child is joined. Not counted: proxies of another server's
// objects, proxies inside a Pool task's arguments or results, and cycles
// (anonymous containers holding each other are never freed; one holding
// only itself is). A named object lives until removed.
//
// Thread safety: all methods may be called from any thread. Ownership: a
// spawned server lives until the spawning Manager is destroyed, shutdown()
// is called, or the spawning process dies; copies of the Manager in forked
// children never stop it. Proxies stay usable while the server runs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <utility>
#include <vector>

#include "mpshare/array.hpp"
#include "mpshare/detail/client.hpp"
#include "mpshare/detail/proxy.hpp"
#include "mpshare/dict.hpp"
#include "mpshare/introspect.hpp"
#include "mpshare/list.hpp"
#include "mpshare/queue.hpp"
#include "mpshare/set.hpp"
#include "mpshare/sync.hpp"
#include "mpshare/value.hpp"

namespace mpshare {

// How Manager::spawn starts its private server. Copyable value.
struct SpawnOptions {
  ConnectOptions connect;
  // The mpshare-server program to run. Empty: $MPSHARE_SERVER if set, else
  // the installed program, else the one in the build tree that built this
  // library. A missing program is an Error naming every place looked.
  std::string server_program;
  // Also listen on TCP or TLS (e.g. "tcp://127.0.0.1:0", "tls://0.0.0.0:7879") so
  // remote workers can connect.
  std::vector<std::string> extra_listen;
  // Certificates (PEM files) of tls:// addresses in extra_listen. With a
  // client CA, TLS clients must present a certificate it signed.
  struct ServerTls {
    std::string cert_file;
    std::string key_file;
    std::string client_ca_file;
  } server_tls;
  // Server low-latency mode: poll this long after activity before sleeping.
  std::chrono::microseconds server_spin{0};
  std::uint32_t max_frame = detail::default_max_frame;
  // The server's key; unset: 32 random bytes. A key shorter than 16 bytes
  // is a ValueError.
  // Give workers Manager::key() (AuthKey::to_hex / from_hex to pass it on).
  std::optional<AuthKey> key;
};

class Manager {
 public:
  static Manager spawn(SpawnOptions options = {});
  static Manager connect(const std::string& address, AuthKey key, ConnectOptions options = {});

  Manager(Manager&&) noexcept;
  Manager& operator=(Manager&&) noexcept;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;
  ~Manager();

  // The address clients use (unix:/... for a spawned server) and every
  // address the server listens on.
  const std::string& address() const;
  const std::vector<std::string>& addresses() const;
  const AuthKey& key() const;
  // The spawned server's process id; 0 for a Manager made by connect().
  pid_t server_pid() const;
  const std::shared_ptr<detail::ClientCore>& core() const { return core_; }

  template <class K, class V>
  Dict<K, V> dict(const std::string& name = {}) {
    return open<Dict<K, V>>(name, Kind::dict, value_code<V>());
  }
  template <class T>
  List<T> list(const std::string& name = {}) {
    return open<List<T>>(name, Kind::list, value_code<T>());
  }
  template <class T>
  Set<T> set(const std::string& name = {}) {
    return open<Set<T>>(name, Kind::set, value_code<T>());
  }
  // Containers created with contents: mgr.dict<K, V>(name, {{k, v}, ...}),
  // mgr.list<T>(name, {...}), mgr.set<T>(name, {...}), or any range. The
  // contents apply only when this call creates the object, in one atomic
  // step (no client sees it partly filled); an existing object is opened
  // as it is.
  template <class K, class V>
  Dict<K, V> dict(const std::string& name, std::initializer_list<std::pair<K, V>> contents) {
    return open<Dict<K, V>>(name, Kind::dict, value_code<V>(), Dict<K, V>::params(contents));
  }
  template <class K, class V, std::ranges::input_range Range>
  Dict<K, V> dict(const std::string& name, const Range& contents) {
    return open<Dict<K, V>>(name, Kind::dict, value_code<V>(), Dict<K, V>::params(contents));
  }
  // Python's dict.fromkeys: a Dict created with every key mapped to `value`.
  template <class K, class V, std::ranges::input_range Range = std::initializer_list<K>>
  Dict<K, V> dict_fromkeys(const std::string& name, const Range& keys, const V& value = V{}) {
    std::vector<std::pair<K, V>> contents;
    for (const auto& k : keys) contents.emplace_back(k, value);
    return dict<K, V>(name, contents);
  }
  template <class T>
  List<T> list(const std::string& name, std::initializer_list<T> contents) {
    return open<List<T>>(name, Kind::list, value_code<T>(), List<T>::params(contents));
  }
  template <class T, std::ranges::input_range Range>
  List<T> list(const std::string& name, const Range& contents) {
    return open<List<T>>(name, Kind::list, value_code<T>(), List<T>::params(contents));
  }
  template <class T>
  Set<T> set(const std::string& name, std::initializer_list<T> contents) {
    return open<Set<T>>(name, Kind::set, value_code<T>(), Set<T>::params(contents));
  }
  template <class T, std::ranges::input_range Range>
  Set<T> set(const std::string& name, const Range& contents) {
    return open<Set<T>>(name, Kind::set, value_code<T>(), Set<T>::params(contents));
  }
  // Value/Array in shared memory (value.hpp, array.hpp). Reopening an
  // existing name ignores `initial`; another size or type is TypeMismatch.
  template <class T>
  Value<T> value(const std::string& name = {}, const T& initial = T{}) {
    return open<Value<T>>(name, Kind::value, value_code<T>(), Value<T>::params(initial));
  }
  template <class T>
  Array<T> array(const std::string& name, std::size_t size) {
    return open<Array<T>>(name, Kind::array, value_code<T>(), Array<T>::params(size));
  }
  template <class T>
  Array<T> array(const std::string& name, std::initializer_list<T> init) {
    return open<Array<T>>(name, Kind::array, value_code<T>(),
                          Array<T>::params(std::span<const T>(init.begin(), init.size())));
  }
  template <class T>
  Array<T> array(const std::string& name, const std::vector<T>& init) {
    return open<Array<T>>(name, Kind::array, value_code<T>(),
                          Array<T>::params(std::span<const T>(init)));
  }
  // maxsize 0: unbounded. Reopening with another maxsize is a TypeMismatch.
  template <class T>
  Queue<T> queue(const std::string& name = {}, std::size_t maxsize = 0) {
    return open<Queue<T>>(name, Kind::queue, ValueCode::opaque,
                          encode(static_cast<std::uint64_t>(maxsize)));
  }
  template <class T>
  JoinableQueue<T> joinable_queue(const std::string& name = {}, std::size_t maxsize = 0) {
    return open<JoinableQueue<T>>(name, Kind::joinable_queue, ValueCode::opaque,
                                  encode(static_cast<std::uint64_t>(maxsize)));
  }

  Lock lock(const std::string& name = {}) {
    return open<Lock>(name, Kind::lock, ValueCode::opaque);
  }
  RLock rlock(const std::string& name = {}) {
    return open<RLock>(name, Kind::rlock, ValueCode::opaque);
  }
  // A Condition with its own RLock, or bound to `lock` (reopening it with
  // another lock, or none, is a TypeMismatch).
  Condition condition(const std::string& name = {}) {
    return open<Condition>(name, Kind::condition, ValueCode::opaque);
  }
  Condition condition(const std::string& name, const Lock& lock) {
    return open<Condition>(name, Kind::condition, ValueCode::opaque, encode(lock.id()));
  }
  Condition condition(const std::string& name, const RLock& lock) {
    return open<Condition>(name, Kind::condition, ValueCode::opaque, encode(lock.id()));
  }
  // A negative value is a ValueError; reopening with another value or
  // options a TypeMismatch. Permits count as in Python unless
  // options.session_aware (sync.hpp).
  Semaphore semaphore(const std::string& name = {}, std::int64_t value = 1,
                      SemaphoreOptions options = {}) {
    return open<Semaphore>(name, Kind::semaphore, ValueCode::opaque,
                           semaphore_params(value, options));
  }
  BoundedSemaphore bounded_semaphore(const std::string& name = {}, std::int64_t value = 1,
                                     SemaphoreOptions options = {}) {
    return open<BoundedSemaphore>(name, Kind::bounded_semaphore, ValueCode::opaque,
                                  semaphore_params(value, options));
  }
  Event event(const std::string& name = {}) {
    return open<Event>(name, Kind::event, ValueCode::opaque);
  }
  // parties == 0 is a ValueError; reopening with other parties, with or
  // without an action when it was created the other way, or with another
  // timeout is a TypeMismatch. options: an action and a default timeout
  // (sync.hpp).
  Barrier barrier(const std::string& name, std::size_t parties, BarrierOptions options = {}) {
    if (parties == 0) throw ValueError("a barrier needs at least one party");
    return open<Barrier>(name, Kind::barrier, ValueCode::opaque, Barrier::params(parties, options),
                         std::move(options.action));
  }

  // Removes a named object (KeyError if none); its proxies then get NoSuchObject.
  void remove(const std::string& name);
  std::vector<ObjectInfo> objects() const;
  // Round trip to the server; throws ConnectionLost if it is gone.
  void ping() const;
  // Snapshots of the live server (introspect.hpp): its counters, every
  // connection with what it holds and waits on, every object in detail.
  ServerInfo info() const;
  std::vector<ClientInfo> clients() const;
  std::vector<ObjectDetail> objects_detail() const;
  // Stops the server (every client then gets ConnectionLost). For a spawned
  // server, waits for its process to exit. Only the process that spawned
  // the server may stop it, or any client when the server runs with
  // --allow-shutdown; others get PermissionError. A forked child's copy of
  // a spawning Manager does nothing.
  void shutdown();

 private:
  struct Spawned;
  Manager(std::shared_ptr<detail::ClientCore> core, std::unique_ptr<Spawned> spawned,
          std::vector<std::string> addresses);

  static Bytes semaphore_params(std::int64_t value, SemaphoreOptions options) {
    if (value < 0) throw ValueError("semaphore initial value must not be negative");
    Bytes out;
    encode_into(out, value, options.session_aware);
    return out;
  }

  // `extra` goes to P's constructor after (core, id, name).
  template <class P, class... Extra>
  P open(const std::string& name, Kind kind, ValueCode code, const Bytes& params = {},
         Extra&&... extra) {
    auto reply = detail::open_object(*core_, name, kind, P::type_signature(), code, params);
    P proxy(core_, reply.object_id, name.empty() ? "@" + std::to_string(reply.object_id) : name,
            std::forward<Extra>(extra)...);
    proxy.adopt_created_reference();
    return proxy;
  }

  std::shared_ptr<detail::ClientCore> core_;
  std::unique_ptr<Spawned> spawned_;
  std::vector<std::string> addresses_;
};

}  // namespace mpshare
