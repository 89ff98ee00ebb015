#pragma once

#include "sandbox/call_log.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace lethe::sandbox {

// How apply() treats a call.
struct ApplyOptions {
    bool destroy_missing_404 = false; // destroy of an unknown person answers 404
    bool drop_response = false;       // the answer will be cut (reset): log status 0
};

// What GET /_sandbox/state includes.
struct StateQuery {
    bool people = true;      // include the people map
    bool log = true;         // include the request log
    std::uint64_t since = 0; // only log entries with seq > since
};

// Result of seeding people.
struct SeedResult {
    std::size_t added = 0;              // new or updated people
    std::size_t skipped_suppressed = 0; // refused because the identifier is suppressed
};

// Everything the emulated workspace holds: people, suppressed identifiers, counters and the
// request log, behind one mutex so the log order is the order in which state changed.
class State {
public:
    // A log bounded to `log_limit` entries.
    explicit State(std::size_t log_limit) : m_log(log_limit) {}
    // Performs `record.call` on `record.identifier`, fills in status and applied, and logs it.
    // `attributes` (an object, or null) is what an identify sets.
    CallRecord apply(CallRecord record, const nlohmann::json& attributes, ApplyOptions options);
    // Logs a call that was answered without touching state (auth failure, fault, bad path).
    CallRecord record(CallRecord record);
    // Adds people from `body` ({"people": [...]} or a bare array of ids or {"id","attributes"});
    // throws std::invalid_argument, adding nobody, when the body has another shape.
    SeedResult seed_people(const nlohmann::json& body, TimeMs now);
    // Forgets people, suppressions, counters and the log.
    void reset();
    // The state as JSON (see docs/sandbox.md).
    nlohmann::json to_json(const StateQuery& query) const;

private:
    struct Person {
        nlohmann::json attributes = nlohmann::json::object();
        TimeMs created_ms = 0;
        TimeMs updated_ms = 0;
    };
    struct Counters {
        std::uint64_t requests = 0;
        std::map<std::string, std::uint64_t> by_call;
        std::map<std::string, std::uint64_t> by_status;
        std::map<std::string, std::uint64_t> by_fault;
    };

    void perform(CallRecord& record, const nlohmann::json& attributes, ApplyOptions options);
    void upsert(const std::string& id, const nlohmann::json& attributes, TimeMs now);
    CallRecord log_locked(CallRecord record);

    mutable std::mutex m_mutex;
    std::map<std::string, Person> m_people;
    std::set<std::string> m_suppressed;
    Counters m_counters;
    CallLog m_log;
};

} // namespace lethe::sandbox
