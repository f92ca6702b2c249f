// Declarations of every op handler, generated from ops.def. Each kind's file
// under server/objects/ defines its handlers; a missing one fails the link.
//
// Contract: a handler runs on the event-loop thread, must not block, and
// returns its result, or std::nullopt after parking the call (Call::park)
// to answer it later. It reports errors with fail(Errc, message); the
// object must be unchanged when it does.
#pragma once

#include <optional>

#include "call.hpp"

namespace mpshare::server {
using namespace mpshare::detail;

#define MPSHARE_OP(Name, code, kinds, Result, ...) \
  std::optional<Result> handle(op::Name, Call& __VA_OPT__(, ) __VA_ARGS__);
#include "mpshare/detail/ops.def"
#undef MPSHARE_OP

}  // namespace mpshare::server
