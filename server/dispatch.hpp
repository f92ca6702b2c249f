// The dispatch table: op code -> handler, generated from ops.def, with the
// generic checks (op known, object exists, kind accepted, payload decodes)
// done once before any handler.
#pragma once

#include <string_view>

#include "call.hpp"

namespace mpshare::server {

// Handles one request frame. Appends the reply (if not parked) to
// call's session out(). Never throws for bad input: errors become replies.
// Appends an error reply to the request `h`.
void append_error(std::string& out, const detail::FrameHeader& h, Errc code,
                  const std::string& message);

void dispatch(Server& server, const std::shared_ptr<SessionBase>& session,
              const detail::FrameHeader& header, std::string_view payload);

}  // namespace mpshare::server
