#pragma once

#include "serve/metrics.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <mutex>
#include <string>

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

// StatusSource over the lethe database, on its own connection so that a scrape never waits for
// an intake write (WAL readers do not block writers). Safe to call from several threads.
class DatabaseStatus final : public StatusSource {
public:
    DatabaseStatus(store::Database& db, const Clock& clock);
    Health health() override;
    MetricsSnapshot metrics() override;

private:
    store::Database& m_db;
    const Clock& m_clock;
    std::mutex m_mutex;
    store::CallTally m_tally; // running totals; each scrape adds the entries since the last one
};

} // namespace lethe::serve
