// One constructor per kind, defined in that kind's file.
#pragma once

#include <memory>

#include "../object.hpp"

namespace mpshare::server {

std::unique_ptr<Object> make_dict(const OpenRequest& req);
std::unique_ptr<Object> make_list(const OpenRequest& req);
std::unique_ptr<Object> make_value(const OpenRequest& req);
std::unique_ptr<Object> make_array(const OpenRequest& req);
// Queue and JoinableQueue (req.kind tells which).
std::unique_ptr<Object> make_queue(const OpenRequest& req);
// Lock and RLock; Semaphore and BoundedSemaphore (req.kind tells which).
std::unique_ptr<Object> make_lock(const OpenRequest& req);
std::unique_ptr<Object> make_condition(const OpenRequest& req);
std::unique_ptr<Object> make_semaphore(const OpenRequest& req);
std::unique_ptr<Object> make_event(const OpenRequest& req);
std::unique_ptr<Object> make_barrier(const OpenRequest& req);

}  // namespace mpshare::server
