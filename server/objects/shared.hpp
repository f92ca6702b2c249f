// The shared-memory object behind Value and Array (server/objects/shared.cpp).
#pragma once

#include <memory>

#include "../object.hpp"

namespace mpshare::server {

// Creates the segment described by req.params (a SharedSpec): an anonymous
// memfd laid out by Boost.Interprocess, holding a robust process-shared
// mutex and the elements. Fails with ValueError for a bad spec.
std::unique_ptr<Object> make_shared_memory_object(const ObjectContext& cx, const OpenRequest& req);

}  // namespace mpshare::server
