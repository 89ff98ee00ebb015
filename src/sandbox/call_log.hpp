#pragma once

#include "sandbox/identifiers.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace lethe::sandbox {

// The calls the sandbox knows. Track API v2 entity and batch operations are logged as the
// suppress or destroy they perform.
enum class CallKind {
    identify,
    suppress,
    unsuppress,
    destroy,
    region,
    entity,          // POST /api/v2/entity whose body did not name a usable operation
    batch,           // POST /api/v2/batch
    find_by_email,   // App API GET /v1/customers?email=
    attributes,      // App API GET /v1/customers/{id}/attributes
    bulk_attributes, // App API POST /v1/customers/attributes
    search,          // App API POST /v1/customers (a filter on one attribute)
    unknown,
};

// Which API a call belongs to (and so which credentials it needs).
enum class Api {
    track_v1, // Basic site_id:track_api_key
    track_v2, // Basic site_id:track_api_key
    app,      // Bearer app_api_key
};

// "identify", "suppress", ... as used in the log and the counters.
const char* call_name(CallKind kind);

// "track_v1", "track_v2", "app".
const char* api_name(Api api);

// One API request as the sandbox saw and answered it.
struct CallRecord {
    std::uint64_t seq = 0;                 // assigned by CallLog::append, from 1
    TimeMs time_ms = 0;                    // when the request arrived
    std::string method;                    // HTTP method
    Api api = Api::track_v1;               // which API the path belongs to
    CallKind call = CallKind::unknown;     // which call the path named
    std::optional<std::string> identifier; // percent-decoded, when the call carried a valid one
    std::optional<IdKind> id_type;         // how the identifier was read
    std::string workspace;                 // the credentials' workspace; empty when none matched
    std::size_t matched = 0;               // profiles the call found or removed
    int status = 0;                        // HTTP status sent; 0 when the connection was dropped
    std::string fault;                     // injected fault ("429", "reset", ...), empty if none
    bool applied = false;                  // the call changed (or confirmed) state as asked
    bool auth_present = false;             // an Authorization header was sent
    bool auth_valid = false;               // and it held accepted credentials
    std::int64_t latency_ms = 0;           // arrival to the moment the answer was decided
};

// The record as JSON (the entries of "log" in GET /_sandbox/state).
nlohmann::json to_json(const CallRecord& record);

// The request log: numbered, bounded (oldest entries are dropped first). Not thread-safe; State
// guards it.
class CallLog {
public:
    // Keeps at most `limit` entries.
    explicit CallLog(std::size_t limit) : m_limit(limit) {}
    // Numbers `record`, stores it and returns its sequence number.
    std::uint64_t append(CallRecord record);
    // Entries with seq > `after`, oldest first, as a JSON array.
    nlohmann::json to_json(std::uint64_t after) const;
    // Entries dropped because of the bound since the last clear().
    std::uint64_t dropped() const { return m_dropped; }
    // Removes every entry and restarts numbering at 1.
    void clear();

private:
    std::size_t m_limit;
    std::deque<CallRecord> m_entries;
    std::uint64_t m_next_seq = 1;
    std::uint64_t m_dropped = 0;
};

} // namespace lethe::sandbox
