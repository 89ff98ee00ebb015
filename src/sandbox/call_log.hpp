#pragma once

#include "util/clock.hpp"

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace lethe::sandbox {

// The Track API calls the sandbox knows.
enum class CallKind { identify, suppress, unsuppress, destroy, region, unknown };

// "identify", "suppress", ... as used in the log and the counters.
const char* call_name(CallKind kind);

// One API request as the sandbox saw and answered it.
struct CallRecord {
    std::uint64_t seq = 0;                 // assigned by CallLog::append, from 1
    TimeMs time_ms = 0;                    // when the request arrived
    std::string method;                    // HTTP method
    CallKind call = CallKind::unknown;     // which call the path named
    std::optional<std::string> identifier; // percent-decoded, when the path carried a valid one
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
