// mpshare-cli's tables: the introspection snapshots as aligned text for
// people (--json gives mpshare::to_json instead). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "mpshare/introspect.hpp"

namespace mpshare::cli {

std::string info_table(const ServerInfo& info);
std::string clients_table(const std::vector<ClientInfo>& clients);
std::string objects_table(const std::vector<ObjectDetail>& objects);

// "1.5 KiB", "3.0 MiB"; "12 B" below a KiB.
std::string human_bytes(std::uint64_t n);
// "4.2s", "3m05s", "2h07m", "3d04h".
std::string human_duration(double seconds);

}  // namespace mpshare::cli
