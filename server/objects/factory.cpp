// Object construction by kind. Each kind's file defines its make_<kind>.
#include "factory.hpp"

#include "../call.hpp"
#include "../object.hpp"

namespace mpshare::server {

std::unique_ptr<Object> make_object(const OpenRequest& req) {
  switch (req.kind) {
    case Kind::dict:
      return make_dict(req);
    case Kind::list:
      return make_list(req);
    case Kind::value:
      return make_value(req);
    case Kind::array:
      return make_array(req);
    case Kind::queue:
    case Kind::joinable_queue:
      return make_queue(req);
    case Kind::lock:
    case Kind::rlock:
      return make_lock(req);
    case Kind::condition:
      return make_condition(req);
    case Kind::semaphore:
    case Kind::bounded_semaphore:
      return make_semaphore(req);
    case Kind::event:
      return make_event(req);
    case Kind::barrier:
      return make_barrier(req);
    default:
      break;
  }
  fail(Errc::value_error, "cannot create objects of kind " + std::string(kind_name(req.kind)));
}

}  // namespace mpshare::server
