#include "store/metrics_queries.hpp"

#include "erasure/lifecycle.hpp"
#include "store/audit_log.hpp"
#include "store/migrations.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <algorithm>

namespace lethe::store {

void tally_calls(Database& db, CallTally& tally) {
    // A deferred transaction is a read snapshot in WAL mode: the head and the range agree.
    SQLite::Transaction snapshot(db.db(), SQLite::TransactionBehavior::DEFERRED);
    const std::int64_t head = read_chain_head(db.db()).size;
    SQLite::Statement q(db.db(),
                        "SELECT substr(event, 6), json_extract(detail, '$.status'), "
                        " COALESCE(json_extract(detail, '$.workspace'), 'default'), "
                        " json_extract(detail, '$.outcome'), "
                        " json_extract(detail, '$.next_attempt_at') IS NOT NULL "
                        "FROM audit_log INDEXED BY audit_calls WHERE seq > ?1 AND seq <= ?2 "
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

namespace {

// Applies one worker, call or workspace entry to what is known of its workspace.
void apply_worker_entry(WorkerSeen& w, const std::string& event, TimeMs at,
                        const std::string& reason) {
    w.last_seen_ms = std::max(w.last_seen_ms, at);
    if (event == "worker.halted") {
        w.halted = true;
    } else if (event == "worker.started" || event == "worker.stopped") {
        w.halted = false;
    }
    if (event == "workspace.pin_failed") {
        w.pin_failing = true;
        ++w.pin_failures;
    } else if (event.rfind("call.", 0) == 0 || (event == "worker.stopped" && reason != "halt")) {
        // A call is made only after the pin check passed; a clean stop had no pin failure.
        w.pin_failing = false;
    }
}

} // namespace

void tally_workers(Database& db, WorkerTally& tally) {
    SQLite::Transaction snapshot(db.db(), SQLite::TransactionBehavior::DEFERRED);
    const std::int64_t head = read_chain_head(db.db()).size;
    SQLite::Statement q(db.db(),
                        "SELECT event, at, COALESCE(json_extract(detail, '$.workspace'), "
                        " 'default'), COALESCE(json_extract(detail, '$.reason'), '') "
                        "FROM audit_log WHERE seq > ?1 AND seq <= ?2 AND (event GLOB 'worker.*' "
                        " OR event GLOB 'call.*' OR event GLOB 'workspace.*') ORDER BY seq");
    q.bind(1, tally.last_seq);
    q.bind(2, head);
    while (q.executeStep()) {
        const auto at = parse_iso8601(q.getColumn(1).getString());
        apply_worker_entry(tally.workspaces[q.getColumn(2).getString()], q.getColumn(0).getString(),
                           at.value_or(0), q.getColumn(3).getString());
    }
    tally.last_seq = head;
}

MetricCounts read_metric_counts(Database& db, TimeMs now) {
    constexpr TimeMs k_hour = 3'600'000;
    SQLite::Transaction snapshot(db.db(), SQLite::TransactionBehavior::DEFERRED);
    MetricCounts m;
    for (auto state : erasure::k_request_states) {
        m.requests[std::string(erasure::to_text(state))] = 0;
    }
    SQLite::Statement counts(db.db(), "SELECT kind, workspace, state, n FROM state_counts");
    while (counts.executeStep()) {
        const std::string kind = counts.getColumn(0).getString();
        const std::string workspace = counts.getColumn(1).getString();
        const std::string state = counts.getColumn(2).getString();
        const std::int64_t n = counts.getColumn(3).getInt64();
        if (kind == "request") {
            m.requests[state == "suppressed" ? "pending" : state] += n;
            continue;
        }
        auto& per_state = m.erasures[workspace];
        if (per_state.empty()) {
            for (auto s : erasure::k_erasure_states) {
                per_state[std::string(erasure::to_text(s))] = 0;
            }
            per_state["unverified"] = 0;
        }
        per_state[kind == "unverified" ? "unverified" : state] += n;
    }
    // Whole past hours from the table; the current hour from the (state, deadline_at) index.
    const TimeMs hour = now / k_hour;
    SQLite::Statement overdue(
        db.db(), "SELECT (SELECT COALESCE(sum(n), 0) FROM open_deadlines WHERE hour < ?1),"
                 " (SELECT count(*) FROM requests WHERE state = 'pending' AND deadline_at >= ?2"
                 "   AND deadline_at < ?3),"
                 " (SELECT count(*) FROM requests WHERE state = 'suppressed' AND deadline_at >= ?2"
                 "   AND deadline_at < ?3),"
                 " (SELECT count(*) FROM requests WHERE state = 'dead' AND deadline_at >= ?2"
                 "   AND deadline_at < ?3),"
                 " (SELECT received_at FROM requests INDEXED BY requests_active_received"
                 "   WHERE state IN ('pending', 'suppressed') ORDER BY received_at LIMIT 1)");
    overdue.bind(1, hour);
    overdue.bind(2, hour * k_hour);
    overdue.bind(3, now);
    overdue.executeStep();
    m.overdue = overdue.getColumn(0).getInt64() + overdue.getColumn(1).getInt64() +
                overdue.getColumn(2).getInt64() + overdue.getColumn(3).getInt64();
    if (!overdue.getColumn(4).isNull()) {
        m.oldest_pending_received_at = overdue.getColumn(4).getInt64();
    }
    // At risk: the rest of the current hour exactly, then whole hours from open_deadlines.
    SQLite::Statement at_risk(
        db.db(), "SELECT (SELECT COALESCE(sum(n), 0) FROM open_deadlines WHERE hour > ?1"
                 "   AND hour <= ?2),"
                 " (SELECT count(*) FROM requests WHERE state = ?3 AND deadline_at >= ?4"
                 "   AND deadline_at < ?5)");
    at_risk.bind(1, hour);
    at_risk.bind(2, (now + k_at_risk_ms) / k_hour);
    at_risk.bind(4, now);
    at_risk.bind(5, (hour + 1) * k_hour);
    for (const char* state : {"pending", "suppressed", "dead"}) {
        at_risk.reset();
        at_risk.bind(3, state);
        at_risk.executeStep();
        m.at_risk += at_risk.getColumn(1).getInt64();
    }
    m.at_risk += at_risk.getColumn(0).getInt64();
    return m;
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
