// One constructor per kind, defined in that kind's file.
#pragma once

#include <memory>

#include "../object.hpp"

namespace mpshare::server {

std::unique_ptr<Object> make_dict(const ObjectContext& cx, const OpenRequest& req);
std::unique_ptr<Object> make_list(const ObjectContext& cx, const OpenRequest& req);
std::unique_ptr<Object> make_value(const ObjectContext& cx, const OpenRequest& req);
std::unique_ptr<Object> make_array(const ObjectContext& cx, const OpenRequest& req);
// Queue and JoinableQueue (req.kind tells which).
std::unique_ptr<Object> make_queue(const ObjectContext& cx, const OpenRequest& req);
// Lock and RLock; Semaphore and BoundedSemaphore (req.kind tells which).
std::unique_ptr<Object> make_lock(const ObjectContext& cx, const OpenRequest& req);
std::unique_ptr<Object> make_condition(const ObjectContext& cx, const OpenRequest& req);
std::unique_ptr<Object> make_semaphore(const ObjectContext& cx, const OpenRequest& req);
std::unique_ptr<Object> make_event(const ObjectContext& cx, const OpenRequest& req);
std::unique_ptr<Object> make_barrier(const ObjectContext& cx, const OpenRequest& req);

}  // namespace mpshare::server
