#include "serve/database_status.hpp"

#include "store/metrics_queries.hpp"
#include "store/witness_store.hpp"

#include <algorithm>

namespace lethe::serve {

DatabaseStatus::DatabaseStatus(store::Database& metrics_db, store::Database& health_db,
                               const Clock& clock)
    : m_db(metrics_db), m_health_db(health_db), m_clock(clock) {
}

Health DatabaseStatus::health() {
    std::lock_guard lock(m_health_mutex);
    Health h;
    h.ok = store::schema_is_current(m_health_db, h.reason);
    return h;
}

MetricsSnapshot DatabaseStatus::metrics() {
    std::lock_guard lock(m_mutex);
    const TimeMs now = m_clock.now_ms();
    store::MetricCounts counts = store::read_metric_counts(m_db, now);
    MetricsSnapshot m;
    m.requests_by_state = std::move(counts.requests);
    m.erasures_by_workspace = std::move(counts.erasures);
    m.overdue = counts.overdue;
    m.at_risk = counts.at_risk;
    if (counts.oldest_pending_received_at) {
        m.oldest_pending_seconds =
            std::max<TimeMs>(0, now - *counts.oldest_pending_received_at) / 1000;
    }
    store::tally_calls(m_db, m_tally);
    m.calls = m_tally;
    m.audit_entries = store::audit_entry_count(m_db);
    m.checkpoint_size = store::latest_checkpoint_size(m_db);
    m.witness_quorum = m_quorum;
    if (auto w = store::latest_witnessed(m_db, m_witnesses, m_quorum)) {
        m.witnessed_size = w->size;
        m.witnessed_age_seconds = std::max<std::int64_t>(0, now / 1000 - w->witness_time);
    }
    store::tally_workers(m_db, m_workers);
    m.workers = m_workers.workspaces;
    auto dir = m_db.path().parent_path();
    m.state_filesystem = filesystem_space(dir.empty() ? std::filesystem::path(".") : dir);
    return m;
}

void DatabaseStatus::set_witnesses(std::vector<std::string> names, std::int64_t quorum) {
    m_witnesses = std::move(names);
    m_quorum = quorum;
}

} // namespace lethe::serve
