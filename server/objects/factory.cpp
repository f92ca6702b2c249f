// Object construction by kind. Each kind's file defines its make_<kind>.
#include "factory.hpp"

#include "../call.hpp"
#include "../object.hpp"

namespace mpshare::server {

std::unique_ptr<Object> make_object(const ObjectContext& cx, const OpenRequest& req) {
  switch (req.kind) {
    case Kind::dict:
      return make_dict(cx, req);
    case Kind::list:
      return make_list(cx, req);
    case Kind::value:
      return make_value(cx, req);
    case Kind::array:
      return make_array(cx, req);
    case Kind::queue:
    case Kind::joinable_queue:
      return make_queue(cx, req);
    case Kind::lock:
    case Kind::rlock:
      return make_lock(cx, req);
    case Kind::condition:
      return make_condition(cx, req);
    case Kind::semaphore:
    case Kind::bounded_semaphore:
      return make_semaphore(cx, req);
    case Kind::event:
      return make_event(cx, req);
    case Kind::barrier:
      return make_barrier(cx, req);
    default:
      break;
  }
  fail(Errc::value_error, "cannot create objects of kind " + std::string(kind_name(req.kind)));
}

}  // namespace mpshare::server
