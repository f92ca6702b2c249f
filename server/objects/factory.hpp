// The factories of kinds.def: make_<family> is defined in that family's
// file under server/objects/ and makes every kind of the family
// (req.kind tells which). Throws ValueError for bad params.
#pragma once

#include <memory>

#include "../object.hpp"

namespace mpshare::server {

#define MPSHARE_KIND(name, code, family) \
  std::unique_ptr<Object> make_##family(const ObjectContext& cx, const OpenRequest& req);
#include "mpshare/detail/kinds.def"
#undef MPSHARE_KIND

}  // namespace mpshare::server
