// Object construction by kind, generated from kinds.def.
#include "factory.hpp"

#include "../call.hpp"

namespace mpshare::server {

std::unique_ptr<Object> make_object(const ObjectContext& cx, const OpenRequest& req) {
  switch (req.kind) {
#define MPSHARE_KIND(name, code, family) \
  case Kind::name:                       \
    return make_##family(cx, req);
#include "mpshare/detail/kinds.def"
#undef MPSHARE_KIND
    case Kind::none:
      break;
  }
  fail(Errc::value_error, "cannot create objects of kind " + std::string(kind_name(req.kind)));
}

}  // namespace mpshare::server
