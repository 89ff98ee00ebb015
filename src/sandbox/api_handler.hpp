#pragma once

#include "sandbox/context.hpp"

#include <httplib.h>

namespace lethe::sandbox {

// Serves every /api/ route: latency, redirect, Basic auth, path checks, faults, then the call.
void register_api_routes(httplib::Server& server, Context& ctx);

} // namespace lethe::sandbox
