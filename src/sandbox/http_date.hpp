#pragma once

#include "util/clock.hpp"

#include <string>

namespace lethe::sandbox {

// RFC 9110 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (whole seconds, rounded up so the
// date is never earlier than `t`).
std::string format_http_date(TimeMs t);

} // namespace lethe::sandbox
