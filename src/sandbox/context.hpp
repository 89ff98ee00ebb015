#pragma once

#include "sandbox/access_log.hpp"
#include "sandbox/credentials.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/state.hpp"
#include "sandbox/stop_flag.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <string>

namespace lethe::sandbox {

// What GET /api/v1/accounts/region reports.
struct RegionInfo {
    std::string url;           // the track URL (default: the sandbox's own URL)
    std::string region = "us"; // "us" or "eu"
    std::int64_t environment_id = 1;
};

// Everything the request handlers share. Each member guards itself.
struct Context {
    // Builds the shared parts from validated settings.
    Context(FaultConfig faults, Credential credential, std::size_t log_limit, bool access_log)
        : state(log_limit), faults(std::move(faults)), credentials(std::move(credential)),
          access_log(access_log) {}

    State state;
    FaultInjector faults;
    CredentialStore credentials;
    StopFlag stop;
    InFlight in_flight;
    AccessLog access_log;
    RegionInfo region; // set before the server starts, read-only afterwards
    SystemClock clock;
};

} // namespace lethe::sandbox
