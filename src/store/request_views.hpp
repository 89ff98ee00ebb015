#pragma once

#include "util/clock.hpp"

#include <SQLiteCpp/Database.h>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// What a sender may learn about a request (a status query, a completion callback): its state,
// per-workspace progress and times, never the identifier or its digest.
namespace lethe::store {

// The request in one workspace.
struct ErasureProgress {
    std::string workspace;
    std::string state;            // erasure::ErasureState's text
    std::optional<bool> verified; // once done: read back as gone (false: no App API key)
};

// A request as its sender sees it.
struct RequestView {
    std::int64_t row = 0;
    std::string request_id;
    std::string state; // erasure::RequestState's text
    TimeMs received_at = 0;
    TimeMs deadline_at = 0;
    std::optional<TimeMs> finished_at;
    // The erasures that erase this person for it: its own, or, for a request linked to an active
    // request for the same person, that request's (they finish together). By workspace.
    std::vector<ErasureProgress> erasures;
};

// The request `request_id` when `sender` submitted it; nullopt when it is unknown or another's
// (one statement for both, so that they cannot be told apart). Throws SQLite::Exception.
std::optional<RequestView> find_sender_request(SQLite::Database& db, std::string_view sender,
                                               std::string_view request_id);

// The request at `row`; nullopt when there is none. Throws SQLite::Exception.
std::optional<RequestView> request_view(SQLite::Database& db, std::int64_t row);

} // namespace lethe::store
