#include "sandbox/state.hpp"

namespace lethe::sandbox {

std::size_t State::add_workspace(std::string name, IdentifierRules rules, std::string cio_prefix) {
    std::lock_guard lock(m_mutex);
    m_workspaces.emplace_back(std::move(name), Profiles(rules, std::move(cio_prefix)));
    return m_workspaces.size() - 1;
}

CallRecord State::record(CallRecord record) {
    std::lock_guard lock(m_mutex);
    return log_locked(std::move(record));
}

CallRecord State::log_locked(CallRecord record) {
    ++m_counters.requests;
    ++m_counters.by_call[call_name(record.call)];
    ++m_counters.by_status[std::to_string(record.status)];
    if (!record.fault.empty()) {
        ++m_counters.by_fault[record.fault];
    }
    if (!record.workspace.empty()) {
        ++m_counters.by_workspace[record.workspace];
    }
    record.seq = m_log.append(record);
    return record;
}

SeedResult State::seed(std::size_t index, const std::vector<ProfileSpec>& people, TimeMs now,
                       bool ignore_blocks) {
    std::lock_guard lock(m_mutex);
    Profiles next = m_workspaces.at(index).second; // all or nothing: work on a copy
    SeedResult result;
    for (std::size_t i = 0; i < people.size(); ++i) {
        try {
            if (next.add(people[i], now, ignore_blocks)) {
                ++result.added;
            } else {
                ++result.skipped_blocked;
            }
        } catch (const ProfileError& e) {
            throw ProfileError("people[" + std::to_string(i) + "]: " + e.what());
        }
    }
    m_workspaces.at(index).second = std::move(next);
    return result;
}

void State::reset() {
    std::lock_guard lock(m_mutex);
    for (auto& [name, profiles] : m_workspaces) {
        profiles.clear();
    }
    m_counters = {};
    m_log.clear();
}

nlohmann::json State::to_json(const StateQuery& query) const {
    std::lock_guard lock(m_mutex);
    nlohmann::json out;
    nlohmann::json workspaces = nlohmann::json::object();
    for (const auto& [name, profiles] : m_workspaces) {
        workspaces[name] = profiles.to_json(query.people);
    }
    out["workspaces"] = std::move(workspaces);
    out["visibility_delay_ms"] = m_visibility_delay_ms;
    out["counters"] = {{"requests", m_counters.requests},
                       {"by_call", m_counters.by_call},
                       {"by_status", m_counters.by_status},
                       {"by_fault", m_counters.by_fault},
                       {"by_workspace", m_counters.by_workspace}};
    if (query.log) {
        out["log"] = m_log.to_json(query.since);
    }
    out["log_dropped"] = m_log.dropped();
    return out;
}

} // namespace lethe::sandbox
