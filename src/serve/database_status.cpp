#include "serve/database_status.hpp"

#include "store/requests.hpp"

#include <algorithm>

namespace lethe::serve {

DatabaseStatus::DatabaseStatus(store::Database& db, const Clock& clock) : m_db(db), m_clock(clock) {
}

Health DatabaseStatus::health() {
    std::lock_guard lock(m_mutex);
    Health h;
    h.ok = store::schema_is_current(m_db, h.reason);
    return h;
}

MetricsSnapshot DatabaseStatus::metrics() {
    std::lock_guard lock(m_mutex);
    const TimeMs now = m_clock.now_ms();
    store::StatusSummary summary = store::RequestQueue(m_db, m_clock).status();
    MetricsSnapshot m;
    m.requests_by_state = summary.counts;
    m.erasures_by_workspace = summary.by_workspace;
    m.overdue = summary.overdue;
    if (summary.oldest_pending_received_at) {
        m.oldest_pending_seconds =
            std::max<TimeMs>(0, now - *summary.oldest_pending_received_at) / 1000;
    }
    store::tally_calls(m_db, m_tally);
    m.calls = m_tally;
    m.audit_entries = store::audit_entry_count(m_db);
    return m;
}

} // namespace lethe::serve
