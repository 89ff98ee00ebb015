#include "sandbox/call_log.hpp"

#include "util/time.hpp"

#include <algorithm>

namespace lethe::sandbox {

const char* call_name(CallKind kind) {
    switch (kind) {
    case CallKind::identify:
        return "identify";
    case CallKind::suppress:
        return "suppress";
    case CallKind::unsuppress:
        return "unsuppress";
    case CallKind::destroy:
        return "destroy";
    case CallKind::region:
        return "region";
    case CallKind::entity:
        return "entity";
    case CallKind::batch:
        return "batch";
    case CallKind::find_by_email:
        return "find_by_email";
    case CallKind::attributes:
        return "attributes";
    case CallKind::bulk_attributes:
        return "bulk_attributes";
    case CallKind::search:
        return "search";
    case CallKind::unknown:
        return "unknown";
    }
    return "unknown";
}

const char* api_name(Api api) {
    switch (api) {
    case Api::track_v1:
        return "track_v1";
    case Api::track_v2:
        return "track_v2";
    case Api::app:
        return "app";
    }
    return "track_v1";
}

nlohmann::json to_json(const CallRecord& r) {
    return {{"seq", r.seq},
            {"time", format_iso8601_ms(r.time_ms)},
            {"method", r.method},
            {"api", api_name(r.api)},
            {"call", call_name(r.call)},
            {"workspace", r.workspace.empty() ? nlohmann::json() : nlohmann::json(r.workspace)},
            {"identifier", r.identifier ? nlohmann::json(*r.identifier) : nlohmann::json()},
            {"id_type", r.id_type ? nlohmann::json(kind_name(*r.id_type)) : nlohmann::json()},
            {"matched", r.matched},
            {"status", r.status},
            {"fault", r.fault.empty() ? nlohmann::json() : nlohmann::json(r.fault)},
            {"applied", r.applied},
            {"auth_present", r.auth_present},
            {"auth_valid", r.auth_valid},
            {"latency_ms", r.latency_ms}};
}

std::uint64_t CallLog::append(CallRecord record) {
    record.seq = m_next_seq++;
    if (m_limit == 0) {
        ++m_dropped;
        return record.seq;
    }
    if (m_entries.size() >= m_limit) {
        m_entries.pop_front();
        ++m_dropped;
    }
    m_entries.push_back(std::move(record));
    return m_entries.back().seq;
}

nlohmann::json CallLog::to_json(std::uint64_t after) const {
    auto first = std::partition_point(m_entries.begin(), m_entries.end(),
                                      [after](const CallRecord& r) { return r.seq <= after; });
    nlohmann::json out = nlohmann::json::array();
    for (auto it = first; it != m_entries.end(); ++it) {
        out.push_back(sandbox::to_json(*it));
    }
    return out;
}

void CallLog::clear() {
    m_entries.clear();
    m_next_seq = 1;
    m_dropped = 0;
}

} // namespace lethe::sandbox
