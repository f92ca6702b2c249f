// The factories of kinds.def: make_<family> is defined in that family's
// file under server/objects/ and makes every kind of the family
// (req.kind tells which). Throws ValueError for bad params.
#pragma once

#include <memory>
#include <string>
#include <type_traits>

#include "../call.hpp"
#include "../object.hpp"

namespace mpshare::server {

// For kinds whose params are initial contents (Dict, List, Set): applied
// once when the object is created, then dropped, and ignored by a reopen.
// `req` without its params, for the Object base, so they are not kept.
inline OpenRequest without_params(const OpenRequest& req) {
  return OpenRequest{req.name, req.kind, req.type, req.value_code, {}};
}
// The contents in `req`'s params; empty params are empty contents.
template <class T>
T initial_contents(const OpenRequest& req) {
  return req.params.empty() ? T{} : decode<T>(req.params);
}

// For Object::accepts: throws TypeMismatch naming the parameter when a
// reopen asks for `wanted` where `o` has `have`.
template <class T>
void same_param(const Object& o, const char* param, const T& have, const T& wanted) {
  if (have == wanted) return;
  auto show = [](const T& v) {
    if constexpr (std::is_same_v<T, bool>)
      return std::string(v ? "true" : "false");
    else
      return std::to_string(v);
  };
  fail(Errc::type_mismatch,
       "'" + o.name() + "' exists with " + param + " " + show(have) + ", not " + show(wanted));
}

#define MPSHARE_KIND(name, code, family) \
  std::unique_ptr<Object> make_##family(const ObjectContext& cx, const OpenRequest& req);
#include "mpshare/detail/kinds.def"
#undef MPSHARE_KIND

}  // namespace mpshare::server
