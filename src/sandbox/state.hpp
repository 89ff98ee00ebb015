#pragma once

#include "sandbox/call_log.hpp"
#include "sandbox/profiles.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace lethe::sandbox {

// What GET /_sandbox/state includes.
struct StateQuery {
    bool people = true;      // include the profiles, deleted profiles and blocked identifiers
    bool log = true;         // include the request log
    std::uint64_t since = 0; // only log entries with seq > since
};

// Result of seeding people.
struct SeedResult {
    std::size_t added = 0;           // new profiles
    std::size_t skipped_blocked = 0; // refused because an identifier is blocked (suppressed)
};

// Everything the emulated account holds: each workspace's people, the counters and the request
// log, behind one mutex so the log order is the order in which state changed.
class State {
public:
    // A log bounded to `log_limit` entries; App API reads see deleted profiles for
    // `visibility_delay_ms`.
    State(std::size_t log_limit, TimeMs visibility_delay_ms)
        : m_log(log_limit), m_visibility_delay_ms(visibility_delay_ms) {}

    // Adds an empty workspace and returns its index (before serving only).
    std::size_t add_workspace(std::string name, IdentifierRules rules, std::string cio_prefix);

    // Runs `op(profiles, record)` on workspace `index` under the lock, then logs the record as
    // `op` left it (status, applied, matched).
    template <typename Op> CallRecord apply(std::size_t index, CallRecord record, Op&& op) {
        std::lock_guard lock(m_mutex);
        op(m_workspaces.at(index).second, record);
        return log_locked(std::move(record));
    }

    // Logs a call that was answered without touching state (auth failure, fault, bad request).
    CallRecord record(CallRecord record);

    // Adds `people` to workspace `index`, all or nothing: throws ProfileError naming the entry
    // when one cannot be added. Blocked ones are skipped (counted) unless `ignore_blocks`.
    SeedResult seed(std::size_t index, const std::vector<ProfileSpec>& people, TimeMs now,
                    bool ignore_blocks);

    // Forgets every workspace's people and blocks, the counters and the log.
    void reset();

    // How long deleted profiles stay visible to App API reads.
    TimeMs visibility_delay_ms() const { return m_visibility_delay_ms; }

    // The state as JSON (see docs/sandbox.md).
    nlohmann::json to_json(const StateQuery& query) const;

private:
    struct Counters {
        std::uint64_t requests = 0;
        std::map<std::string, std::uint64_t> by_call;
        std::map<std::string, std::uint64_t> by_status;
        std::map<std::string, std::uint64_t> by_fault;
        std::map<std::string, std::uint64_t> by_workspace;
    };

    CallRecord log_locked(CallRecord record);

    mutable std::mutex m_mutex;
    std::vector<std::pair<std::string, Profiles>> m_workspaces; // name, people
    Counters m_counters;
    CallLog m_log;
    TimeMs m_visibility_delay_ms;
};

} // namespace lethe::sandbox
