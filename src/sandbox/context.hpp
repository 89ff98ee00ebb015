#pragma once

#include "sandbox/access_log.hpp"
#include "sandbox/state.hpp"
#include "sandbox/stop_flag.hpp"
#include "sandbox/workspace.hpp"
#include "util/clock.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::sandbox {

// Everything the request handlers share. Each member guards itself.
struct Context {
    // Sets up every workspace and seeds its people; throws std::invalid_argument naming the
    // workspace and person when a seed is refused.
    Context(const WorkspacesFile& file, const FaultConfig& base_faults, std::size_t log_limit,
            bool access_log);

    // The index of the workspace named `name`; nullopt when there is none.
    std::optional<std::size_t> find(std::string_view name) const;

    State state;
    std::vector<std::unique_ptr<Workspace>> workspaces; // same order as in State
    StopFlag stop;
    InFlight in_flight;
    AccessLog access_log;
    std::string own_url; // set before the server starts, read-only afterwards
    SystemClock clock;
};

} // namespace lethe::sandbox
