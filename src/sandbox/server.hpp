#pragma once

#include "sandbox/options.hpp"

#include <string>

namespace lethe::sandbox {

// Binds, prints "lethe-sandbox listening on URL" to stdout and serves until SIGTERM or SIGINT,
// then ends the process with status 0 (1 if the server stops by itself). Throws UsageError or
// std::runtime_error when it cannot start.
[[noreturn]] void serve(const Options& options, const WorkspacesFile& workspaces);

} // namespace lethe::sandbox
