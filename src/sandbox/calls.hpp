#pragma once

#include "sandbox/api_target.hpp"
#include "sandbox/profiles.hpp"
#include "sandbox/workspace.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

// What each API call does to a workspace, apart from transport, auth and faults
// (api_handler.cpp): request checks first, then the effect on the profiles.
namespace lethe::sandbox {

// Track API v2 limits on request bodies.
inline constexpr std::size_t k_max_entity_bytes = 32 * 1024;
inline constexpr std::size_t k_max_batch_bytes = 500 * 1024;
// The App API's bulk attributes call takes 1 to this many ids.
inline constexpr std::size_t k_max_bulk_ids = 100;

// An HTTP answer: status and JSON body.
struct Answer {
    int status = 200;
    nlohmann::json body = nlohmann::json::object();
};

// One Track API v2 person operation.
struct V2Operation {
    CallKind call = CallKind::unknown; // suppress or destroy
    TypedId who;
    std::string error; // why the operation is refused (400, or 207 in a batch); empty if fine
};

// A request checked against its workspace's rules, ready to run.
struct PreparedCall {
    CallKind call = CallKind::unknown;
    std::optional<TypedId> who;          // the addressed identifier, typed
    std::vector<V2Operation> operations; // batch
    std::vector<std::string> ids;        // bulk attributes
    nlohmann::json attributes;           // identify
};

// What execute() needs besides the profiles.
struct ExecContext {
    const WorkspaceSettings& workspace;
    const std::string& own_url; // reported by /accounts/region unless track_url is set
    TimeMs now = 0;
    TimeMs visibility_delay_ms = 0;
    bool destroy_missing_404 = false;
};

// Parses one v2 operation object ({"type", "action", "identifiers"}) under `rules`.
V2Operation parse_v2_operation(const nlohmann::json& op, const IdentifierRules& rules);

// Checks `target` and `body` for a workspace with `rules` and fills `out`; returns the 4xx
// answer instead when the request is malformed (bad JSON, too large, an id_type the workspace
// does not have, ...).
std::optional<Answer> prepare_call(const ApiTarget& target, const std::string& body,
                                   const IdentifierRules& rules, PreparedCall& out);

// Performs `call` on `profiles`, filling record.applied, record.matched and record.id_type.
Answer execute_call(const PreparedCall& call, Profiles& profiles, CallRecord& record,
                    const ExecContext& ctx);

} // namespace lethe::sandbox
