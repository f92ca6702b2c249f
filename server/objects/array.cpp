// Array: a fixed number of elements in shared memory (see shared.cpp).
#include "factory.hpp"
#include "shared.hpp"

namespace mpshare::server {

std::unique_ptr<Object> make_array(const ObjectContext& cx, const OpenRequest& req) {
  return make_shared_memory_object(cx, req);
}

}  // namespace mpshare::server
