#pragma once

#include "serve/metrics.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace lethe::serve {

// The answer of /healthz.
struct Health {
    bool ok = false;
    std::string reason; // why not, when !ok
};

// Where /healthz and /metrics get their figures (a fake in the unit tests).
class StatusSource {
public:
    virtual ~StatusSource() = default;
    // Whether the database answers with the current schema. Never throws.
    virtual Health health() = 0;
    // The figures of /metrics. Throws SQLite::Exception when the database fails.
    virtual MetricsSnapshot metrics() = 0;
};

// StatusSource over the lethe database. A scrape reads the counts that triggers keep (migration
// 0005), so it costs the same at 10 or 1,000,000 requests. /healthz has a connection and a lock
// of its own: a scrape never delays it. WAL readers do not block writers, so neither waits for an
// intake write. Safe to call from several threads.
class DatabaseStatus final : public StatusSource {
public:
    // `metrics_db` for /metrics, `health_db` for /healthz (may be the same, as in unit tests:
    // SQLite then serialises their statements).
    DatabaseStatus(store::Database& metrics_db, store::Database& health_db, const Clock& clock);
    DatabaseStatus(store::Database& db, const Clock& clock) : DatabaseStatus(db, db, clock) {}
    Health health() override;
    MetricsSnapshot metrics() override;
    // The [[audit.witness]] names and witness_quorum, for the witnessed size and age. Call before
    // serving.
    void set_witnesses(std::vector<std::string> names, std::int64_t quorum);

private:
    store::Database& m_db;
    std::vector<std::string> m_witnesses;
    std::int64_t m_quorum = 0;
    store::Database& m_health_db;
    const Clock& m_clock;
    std::mutex m_mutex;           // metrics: m_db and m_tally
    std::mutex m_health_mutex;    // health: m_health_db
    store::CallTally m_tally;     // running totals; each scrape adds the entries since the last one
    store::WorkerTally m_workers; // the same for the workers' entries
};

} // namespace lethe::serve
