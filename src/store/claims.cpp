#include "store/claims.hpp"

#include "store/audit_log.hpp"
#include "util/json_writer.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <tuple>
#include <vector>

namespace lethe::store {
namespace {

// Conditions under which this worker may still write a claimed request. `attempts` is the claim's
// token: every claim counts one more, so a worker whose lease expired and was taken over cannot
// write even when the new holder has the same owner name (containers often share hostname:pid).
constexpr const char* k_held =
    "id = :id AND lease_owner = :owner AND state = :state AND attempts = :attempt";

void bind_held(SQLite::Statement& s, const ClaimedRequest& r, const std::string& owner) {
    s.bind(":id", r.id);
    s.bind(":owner", owner);
    s.bind(":state", r.state);
    s.bind(":attempt", r.attempt);
}

} // namespace

WorkerQueue::WorkerQueue(Database& db, const Clock& clock, std::string owner)
    : m_db(db), m_clock(clock), m_owner(std::move(owner)) {
}

std::optional<ClaimedRequest> WorkerQueue::claim(TimeMs lease_ms) {
    std::lock_guard lock(m_mutex);
    // IMMEDIATE: take the write lock before reading, so a concurrent writer makes us wait on the
    // busy timeout instead of failing with a stale snapshot.
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const TimeMs now = m_clock.now_ms();
    // One statement: the sub-select and the lease are taken under the same write lock, so two
    // workers can never lease the same request. The attempt is counted here, at the start, so a
    // request that crashes its worker every time still runs out of attempts.
    SQLite::Statement q(m_db.db(),
                        "UPDATE requests SET lease_owner = :owner, lease_expires_at = :expires, "
                        "attempts = attempts + 1, updated_at = :now "
                        "WHERE id = (SELECT id FROM requests "
                        "  WHERE state IN ('pending', 'suppressed') AND linked_to IS NULL "
                        "    AND next_attempt_at <= :now "
                        "    AND (lease_expires_at IS NULL OR lease_expires_at <= :now) "
                        "  ORDER BY next_attempt_at, id LIMIT 1) "
                        "RETURNING id, request_id, identifier, subject_digest, state, attempts");
    q.bind(":owner", m_owner);
    q.bind(":expires", now + lease_ms);
    q.bind(":now", now);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    ClaimedRequest r;
    r.id = q.getColumn(0).getInt64();
    r.request_id = q.getColumn(1).getString();
    r.identifier = q.getColumn(2).getString();
    r.subject_digest = q.getColumn(3).getString();
    r.state = q.getColumn(4).getString();
    r.attempt = q.getColumn(5).getInt64();
    q.executeStep(); // run the statement to completion before committing
    tx.commit();
    return r;
}

bool WorkerQueue::renew(const ClaimedRequest& r, TimeMs lease_ms) {
    std::lock_guard lock(m_mutex);
    // Not k_held: the state moves on (pending → suppressed) while the same claim holds the lease.
    SQLite::Statement q(m_db.db(), "UPDATE requests SET lease_expires_at = ? WHERE id = ? AND "
                                   "lease_owner = ? AND attempts = ? AND "
                                   "state IN ('pending', 'suppressed')");
    q.bind(1, m_clock.now_ms() + lease_ms);
    q.bind(2, r.id);
    q.bind(3, m_owner);
    q.bind(4, r.attempt);
    return q.exec() == 1;
}

std::string WorkerQueue::call_detail(const ClaimedRequest& r, const CallRecord& call,
                                     std::optional<TimeMs> next_attempt_at) const {
    JsonWriter j;
    j.field("attempt", r.attempt)
        .field("status", static_cast<std::int64_t>(call.http_status))
        .field("outcome", call.outcome)
        .field("latency_ms", call.latency_ms);
    if (!call.error.empty()) {
        j.field("error", call.error);
    }
    if (call.already_gone) {
        j.field("already_gone", true);
    }
    if (next_attempt_at) {
        j.field("next_attempt_at", format_iso8601_ms(*next_attempt_at));
    }
    j.field("worker", m_owner);
    return j.str();
}

bool WorkerQueue::record_suppressed(const ClaimedRequest& r, const CallRecord& call) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upd(m_db.db(), std::string("UPDATE requests SET state = 'suppressed', "
                                                 "last_error = NULL, updated_at = :now WHERE ") +
                                         k_held);
    upd.bind(":now", m_clock.now_ms());
    bind_held(upd, r, m_owner);
    if (upd.exec() != 1) {
        return false;
    }
    AuditAppender audit(m_db.db(), m_clock);
    audit.append("call.suppress", r.request_id, r.subject_digest, call_detail(r, call, {}));
    audit.append("request.suppressed", r.request_id, r.subject_digest, "{}");
    tx.commit();
    return true;
}

int WorkerQueue::finish_linked(std::int64_t primary_id, const std::string& state,
                               const std::string& via, const std::string& reason,
                               AuditAppender& audit) {
    const TimeMs now = m_clock.now_ms();
    SQLite::Statement linked(m_db.db(), "SELECT id, request_id, subject_digest FROM requests "
                                        "WHERE linked_to = ? AND state IN ('pending', "
                                        "'suppressed') ORDER BY id");
    linked.bind(1, primary_id);
    std::vector<std::tuple<std::int64_t, std::string, std::string>> rows;
    while (linked.executeStep()) {
        rows.emplace_back(linked.getColumn(0).getInt64(), linked.getColumn(1).getString(),
                          linked.getColumn(2).getString());
    }
    const bool done = state == "done";
    SQLite::Statement upd(
        m_db.db(), done ? "UPDATE requests SET state = 'done', identifier = NULL, "
                          "last_error = NULL, updated_at = ?1, finished_at = ?1 WHERE id = ?2"
                        : "UPDATE requests SET state = 'dead', last_error = ?3, "
                          "updated_at = ?1, finished_at = ?1 WHERE id = ?2");
    for (const auto& [id, request_id, digest] : rows) {
        upd.reset();
        upd.bind(1, now);
        upd.bind(2, id);
        JsonWriter detail;
        detail.field("via", via);
        if (!done) {
            upd.bind(3, "linked to " + via + ": " + reason);
            detail.field("reason", reason);
        }
        upd.exec();
        audit.append(done ? "request.done" : "request.dead", request_id, digest, detail.str());
    }
    return static_cast<int>(rows.size());
}

bool WorkerQueue::record_done(const ClaimedRequest& r, const CallRecord& call) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const TimeMs now = m_clock.now_ms();
    // The raw identifier is no longer needed once the person is erased: scrub it in the same
    // transaction that records the erasure.
    SQLite::Statement upd(m_db.db(), std::string("UPDATE requests SET state = 'done', "
                                                 "identifier = NULL, last_error = NULL, "
                                                 "lease_owner = NULL, lease_expires_at = NULL, "
                                                 "updated_at = :now, finished_at = :now WHERE ") +
                                         k_held);
    upd.bind(":now", now);
    bind_held(upd, r, m_owner);
    if (upd.exec() != 1) {
        return false;
    }
    AuditAppender audit(m_db.db(), m_clock);
    audit.append("call.destroy", r.request_id, r.subject_digest, call_detail(r, call, {}));
    int linked = finish_linked(r.id, "done", r.request_id, "", audit);
    audit.append("request.done", r.request_id, r.subject_digest,
                 JsonWriter().field("linked_requests", linked).str());
    tx.commit();
    return true;
}

bool WorkerQueue::record_retry(const ClaimedRequest& r, const CallRecord& call,
                               TimeMs next_attempt_at) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upd(m_db.db(), std::string("UPDATE requests SET next_attempt_at = :next, "
                                                 "last_error = :error, lease_owner = NULL, "
                                                 "lease_expires_at = NULL, updated_at = :now "
                                                 "WHERE ") +
                                         k_held);
    upd.bind(":next", next_attempt_at);
    upd.bind(":error", call.call + ": " + call.error);
    upd.bind(":now", m_clock.now_ms());
    bind_held(upd, r, m_owner);
    if (upd.exec() != 1) {
        return false;
    }
    AuditAppender audit(m_db.db(), m_clock);
    audit.append("call." + call.call, r.request_id, r.subject_digest,
                 call_detail(r, call, next_attempt_at));
    tx.commit();
    return true;
}

bool WorkerQueue::record_dead(const ClaimedRequest& r, const CallRecord* call,
                              const std::string& reason) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const TimeMs now = m_clock.now_ms();
    SQLite::Statement upd(m_db.db(), std::string("UPDATE requests SET state = 'dead', "
                                                 "last_error = :error, lease_owner = NULL, "
                                                 "lease_expires_at = NULL, updated_at = :now, "
                                                 "finished_at = :now WHERE ") +
                                         k_held);
    upd.bind(":error", reason);
    upd.bind(":now", now);
    bind_held(upd, r, m_owner);
    if (upd.exec() != 1) {
        return false;
    }
    AuditAppender audit(m_db.db(), m_clock);
    if (call != nullptr) {
        audit.append("call." + call->call, r.request_id, r.subject_digest,
                     call_detail(r, *call, {}));
    }
    int linked = finish_linked(r.id, "dead", r.request_id, reason, audit);
    audit.append("request.dead", r.request_id, r.subject_digest,
                 JsonWriter().field("reason", reason).field("linked_requests", linked).str());
    tx.commit();
    return true;
}

bool WorkerQueue::release(const ClaimedRequest& r, const CallRecord* call) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upd(m_db.db(), std::string("UPDATE requests SET attempts = attempts - 1, "
                                                 "lease_owner = NULL, lease_expires_at = NULL, "
                                                 "updated_at = :now WHERE ") +
                                         k_held);
    upd.bind(":now", m_clock.now_ms());
    bind_held(upd, r, m_owner);
    if (upd.exec() != 1) {
        return false;
    }
    if (call != nullptr) {
        AuditAppender audit(m_db.db(), m_clock);
        audit.append("call." + call->call, r.request_id, r.subject_digest,
                     call_detail(r, *call, {}));
    }
    tx.commit();
    return true;
}

void WorkerQueue::audit_event(const std::string& event, const std::string& detail_json) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    AuditAppender audit(m_db.db(), m_clock);
    audit.append(event, "", "", detail_json);
    tx.commit();
}

QueueOutlook WorkerQueue::outlook(TimeMs horizon_ms) {
    std::lock_guard lock(m_mutex);
    const TimeMs now = m_clock.now_ms();
    SQLite::Statement q(m_db.db(),
                        "SELECT "
                        " (SELECT count(*) FROM requests WHERE state IN ('pending', 'suppressed') "
                        "   AND linked_to IS NULL AND next_attempt_at <= ?1 "
                        "   AND (lease_expires_at IS NULL OR lease_expires_at <= ?2)),"
                        " (SELECT count(*) FROM requests WHERE state IN ('pending', 'suppressed') "
                        "   AND linked_to IS NULL AND next_attempt_at > ?1),"
                        " (SELECT min(next_attempt_at) FROM requests WHERE state IN ('pending', "
                        "   'suppressed') AND linked_to IS NULL AND next_attempt_at > ?1)");
    q.bind(1, now + horizon_ms);
    q.bind(2, now);
    q.executeStep();
    QueueOutlook o;
    o.due_now = q.getColumn(0).getInt64();
    o.waiting_retry = q.getColumn(1).getInt64();
    if (!q.getColumn(2).isNull()) {
        o.next_attempt_at = q.getColumn(2).getInt64();
    }
    return o;
}

} // namespace lethe::store
