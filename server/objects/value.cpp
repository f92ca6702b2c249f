// Value: one element in shared memory (see shared.cpp for the object).
#include "factory.hpp"
#include "shared.hpp"

namespace mpshare::server {

std::unique_ptr<Object> make_value(const ObjectContext& cx, const OpenRequest& req) {
  return make_shared_memory_object(cx, req);
}

}  // namespace mpshare::server
