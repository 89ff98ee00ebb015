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
    case CallKind::unknown:
        return "unknown";
    }
    return "unknown";
}

nlohmann::json to_json(const CallRecord& r) {
    return {{"seq", r.seq},
            {"time", format_iso8601_ms(r.time_ms)},
            {"method", r.method},
            {"call", call_name(r.call)},
            {"identifier", r.identifier ? nlohmann::json(*r.identifier) : nlohmann::json()},
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
