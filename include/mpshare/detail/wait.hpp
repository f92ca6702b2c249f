// Timeouts of blocking calls: from a user's std::chrono duration to the
// wire's nanoseconds (detail::wait_forever, 0 = do not wait, or positive),
// and to the wait ClientCore::call_wait expects.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "mpshare/detail/protocol.hpp"
#include "mpshare/errors.hpp"

namespace mpshare::detail {

// ValueError when `d` is negative; durations beyond about 95 years wait
// forever.
template <class Rep, class Period>
std::int64_t timeout_ns(std::chrono::duration<Rep, Period> d) {
  const double seconds = std::chrono::duration<double>(d).count();
  if (!(seconds >= 0)) throw ValueError("timeout must not be negative");
  if (seconds > 3.0e9) return wait_forever;
  if constexpr (std::is_floating_point_v<Rep>)
    return static_cast<std::int64_t>(std::ceil(seconds * 1e9));
  else
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// How long the server may park a call with wire timeout `ns`.
inline std::optional<std::chrono::nanoseconds> server_wait(std::int64_t ns) {
  if (ns == wait_forever) return std::nullopt;
  return std::chrono::nanoseconds(ns);
}

}  // namespace mpshare::detail
