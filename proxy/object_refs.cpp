// This process's references to anonymous objects: one ObjectRef per (core,
// object) while any proxy of it is alive here, counting the references the
// server handed this process; the last proxy gives them all back (Release).
//
// Thread safety: one mutex guards the table; it is taken around fork() so
// that the child can start afresh: a child holds no reference of its own for
// the proxies it inherits (its parent's stay in force), so its table is
// emptied and the inherited ObjectRefs do nothing when they go.
#include <pthread.h>

#include <mutex>
#include <unordered_map>

#include "mpshare/detail/proxy.hpp"

namespace mpshare::detail {

namespace {

struct Key {
  const ClientCore* core;
  std::uint64_t id;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& k) const {
    return std::hash<const void*>()(k.core) ^ (std::hash<std::uint64_t>()(k.id) * 31);
  }
};

struct Entry {
  std::weak_ptr<const ObjectRef> ref;
  std::uint64_t handed = 0;  // references the server handed this process
};

struct Table {
  std::mutex mu;
  std::uint64_t generation = 0;  // bumped in each forked child
  std::unordered_map<Key, Entry, KeyHash> entries;
};

Table& table() {
  static Table* t = [] {
    auto* t = new Table;  // never destroyed: proxies may outlive static objects
    ::pthread_atfork([] { table().mu.lock(); }, [] { table().mu.unlock(); },
                     [] {
                       Table& c = table();
                       c.mu.unlock();
                       c.entries.clear();
                       ++c.generation;
                     });
    return t;
  }();
  return *t;
}

}  // namespace

class ObjectRef {
 public:
  ObjectRef(std::shared_ptr<ClientCore> core, std::uint64_t id, std::uint64_t generation)
      : core_(std::move(core)), id_(id), generation_(generation) {}
  ObjectRef(const ObjectRef&) = delete;
  ObjectRef& operator=(const ObjectRef&) = delete;

  // Gives back what the server handed this process, unless a newer
  // ObjectRef took over the entry. Never throws: a server that is gone
  // dropped the references already.
  ~ObjectRef() {
    std::uint64_t handed = 0;
    {
      Table& t = table();
      std::lock_guard lock(t.mu);
      if (generation_ != t.generation) return;
      auto it = t.entries.find(Key{core_.get(), id_});
      if (it == t.entries.end() || !it->second.ref.expired()) return;
      handed = it->second.handed;
      t.entries.erase(it);
    }
    if (handed == 0) return;
    try {
      core_->call<op::Release>(0, id_, handed);
    } catch (...) {
    }
  }

 private:
  std::shared_ptr<ClientCore> core_;
  std::uint64_t id_;
  std::uint64_t generation_;
};

std::shared_ptr<const ObjectRef> adopt_reference(const std::shared_ptr<ClientCore>& core,
                                                 std::uint64_t id, std::uint64_t handed) {
  Table& t = table();
  std::lock_guard lock(t.mu);
  Entry& e = t.entries[Key{core.get(), id}];
  e.handed += handed;
  if (auto ref = e.ref.lock()) return ref;
  auto ref = std::make_shared<const ObjectRef>(core, id, t.generation);
  e.ref = ref;
  return ref;
}

}  // namespace mpshare::detail
