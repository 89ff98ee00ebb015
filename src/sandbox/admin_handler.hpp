#pragma once

#include "sandbox/context.hpp"

#include <httplib.h>

namespace lethe::sandbox {

// Serves /_sandbox/state, /faults, /credentials, /reset and /people (no Basic auth; requests
// from non-loopback addresses are refused with 403).
void register_admin_routes(httplib::Server& server, Context& ctx);

} // namespace lethe::sandbox
