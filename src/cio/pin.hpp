#pragma once

#include "cio/track_client.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lethe::cio {

// What the configuration says a workspace's Track API key must answer to
// GET /api/v1/accounts/region.
struct PinExpectation {
    std::string region;                         // "us" | "eu"
    std::optional<std::int64_t> environment_id; // nullopt: not pinned (legacy [customerio])
    std::string track_url;                      // the configured track_url
};

// The verdict of check_pin, in the order it is decided.
enum class PinStatus {
    ok,                   // the key answers for the configured workspace
    credentials_refused,  // 401/403
    unreachable,          // no answer, a failing host, or an answer that is not the expected JSON
    environment_mismatch, // the key belongs to another workspace
    region_mismatch,      // the workspace lives in the other region
    url_mismatch,         // the answer names (or came from, after a redirect) another host
};

// The fixed name of a verdict ("environment_mismatch", …): what the audit log records, since
// the message may quote the remote answer (invariant 9).
std::string_view to_text(PinStatus status);

// The result of check_pin.
struct PinCheck {
    PinStatus status = PinStatus::unreachable;
    // One line for the operator ("the Track API key belongs to environment 202, not 101"),
    // without the workspace's name (the caller prefixes it); never a secret. Empty when ok.
    std::string message;
};

// Compares a region answer with the expectation: the call's outcome first (refused, unreachable;
// a redirect that was refused is a url_mismatch), then the environment id (when pinned), the
// region, and finally that both the answer's `url` and the host that gave the answer are the
// configured track_url's scheme, host and port (case-insensitive host, default port and a
// trailing '/' ignored). Pure: no I/O.
PinCheck check_pin(const RegionInfo& answer, const PinExpectation& expected);

} // namespace lethe::cio
