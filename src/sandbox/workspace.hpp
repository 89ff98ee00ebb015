#pragma once

#include "sandbox/credentials.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/identifiers.hpp"
#include "sandbox/profiles.hpp"
#include "sandbox/rate_window.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lethe::sandbox {

// One emulated workspace as configured: its account settings and the people it starts with.
struct WorkspaceSettings {
    std::string name;
    std::string region = "us"; // "us" or "eu"
    std::string site_id;
    std::string track_api_key;
    std::string app_api_key; // empty: the workspace has no App API key
    std::int64_t environment_id = 1;
    IdentifierRules rules;
    std::string track_url;           // reported by /accounts/region; empty: own URL
    std::vector<ProfileSpec> people; // seeded at start
    nlohmann::json faults = nlohmann::json::object(); // patch over the command line's faults
};

// Everything a --workspaces file holds.
struct WorkspacesFile {
    std::int64_t visibility_delay_ms = 0;
    int app_rate_limit = 10; // App API requests per second and workspace
    std::vector<WorkspaceSettings> workspaces;
};

// Parses the JSON of a --workspaces file (docs/sandbox.md). Throws std::invalid_argument with
// the JSON path of the problem ("workspaces[1].people[0].email: ..."), never a key's value.
WorkspacesFile parse_workspaces(const nlohmann::json& document);

// Parses one person object ({"id", "email", "phone", "cio_id", "attributes"}); throws
// std::invalid_argument naming `where` and the member.
ProfileSpec parse_person(const nlohmann::json& item, const std::string& where);

// Checks names, credentials and environment ids for clashes between workspaces; throws
// std::invalid_argument.
void check_distinct(const std::vector<WorkspaceSettings>& workspaces);

// A workspace while the sandbox runs: settings, accepted credentials, faults and the App API's
// rate window. Profiles live in State, beside the request log, under its lock.
struct Workspace {
    // Accepts the configured keys; `base_faults` are the command line's, patched by the file's.
    Workspace(WorkspaceSettings settings, const FaultConfig& base_faults, int app_rate_limit);

    WorkspaceSettings settings; // read-only while serving
    CredentialStore track_credentials;
    BearerKeys app_keys;
    FaultInjector faults;
    RateWindow app_rate;
};

} // namespace lethe::sandbox
