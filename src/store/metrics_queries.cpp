#include "store/metrics_queries.hpp"

#include "store/audit_log.hpp"
#include "store/migrations.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace lethe::store {

void tally_calls(Database& db, CallTally& tally) {
    // A deferred transaction is a read snapshot in WAL mode: the head and the range agree.
    SQLite::Transaction snapshot(db.db(), SQLite::TransactionBehavior::DEFERRED);
    const std::int64_t head = read_chain_head(db.db()).size;
    SQLite::Statement q(db.db(), "SELECT substr(event, 6), json_extract(detail, '$.status'), "
                                 " COALESCE(json_extract(detail, '$.workspace'), 'default'), "
                                 " json_extract(detail, '$.outcome'), "
                                 " json_extract(detail, '$.next_attempt_at') IS NOT NULL "
                                 "FROM audit_log WHERE seq > ?1 AND seq <= ?2 "
                                 " AND event IN ('call.suppress', 'call.destroy')");
    q.bind(1, tally.last_seq);
    q.bind(2, head);
    while (q.executeStep()) {
        const std::string call = q.getColumn(0).getString();
        const std::int64_t status = q.getColumn(1).isNull() ? 0 : q.getColumn(1).getInt64();
        const std::string workspace = q.getColumn(2).getString();
        const std::string outcome = q.getColumn(3).isNull() ? "" : q.getColumn(3).getString();
        ++tally.calls[{workspace, call, status == 0 ? "none" : std::to_string(status)}];
        if (call == "destroy" && outcome == "success") {
            ++tally.erasures[workspace];
        }
        if (q.getColumn(4).getInt() != 0) {
            ++tally.retries[workspace];
        }
    }
    tally.last_seq = head;
}

std::int64_t audit_entry_count(Database& db) {
    return read_chain_head(db.db()).size;
}

bool schema_is_current(Database& db, std::string& why) {
    try {
        const int version = db.schema_version();
        if (version != latest_schema_version()) {
            why = "database schema version " + std::to_string(version) + ", expected " +
                  std::to_string(latest_schema_version());
            return false;
        }
        // Reads a table, not only the header: a replaced or truncated file fails here.
        db.db().execAndGet("SELECT count(*) FROM (SELECT 1 FROM requests LIMIT 1)");
        return true;
    } catch (const std::exception&) {
        why = "database unreachable";
        return false;
    }
}

} // namespace lethe::store
