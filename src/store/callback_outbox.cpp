#include "store/callback_outbox.hpp"

#include "store/audit_log.hpp"
#include "util/json_writer.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Transaction.h>

namespace lethe::store {
namespace {

constexpr const char* k_event_columns =
    "e.id, e.event_id, e.request, r.request_id, r.subject_digest, e.sender, e.state, "
    "e.occurred_at, e.status, e.attempts, e.retry_since, e.next_attempt_at, e.last_error, e.body";

// The senders as a JSON array, for `sender IN (SELECT value FROM json_each(?))`.
std::string sender_list(const std::vector<std::string>& senders) {
    std::string out = "[";
    for (const auto& s : senders) {
        // Sender names are [a-z0-9-] (config): nothing to escape.
        out += (out.size() > 1 ? ",\"" : "\"") + s + "\"";
    }
    return out + "]";
}

CallbackStatus status_from(const std::string& text) {
    if (text == "delivered") {
        return CallbackStatus::delivered;
    }
    return text == "failed" ? CallbackStatus::failed : CallbackStatus::pending;
}

CallbackEvent read_event(SQLite::Statement& q) {
    CallbackEvent e;
    e.id = q.getColumn(0).getInt64();
    e.event_id = q.getColumn(1).getString();
    e.request_row = q.getColumn(2).getInt64();
    e.request_id = q.getColumn(3).getString();
    e.subject_digest = q.getColumn(4).getString();
    e.sender = q.getColumn(5).getString();
    e.state = q.getColumn(6).getString();
    e.occurred_at = q.getColumn(7).getInt64();
    e.status = status_from(q.getColumn(8).getString());
    e.attempts = q.getColumn(9).getInt64();
    e.retry_since = q.getColumn(10).getInt64();
    e.next_attempt_at = q.getColumn(11).getInt64();
    if (!q.getColumn(12).isNull()) {
        e.last_error = q.getColumn(12).getString();
    }
    if (!q.getColumn(13).isNull()) {
        e.body = q.getColumn(13).getString();
    }
    return e;
}

std::string_view audit_event(CallbackStatus status) {
    switch (status) {
    case CallbackStatus::delivered:
        return "callback.delivered";
    case CallbackStatus::failed:
        return "callback.failed";
    case CallbackStatus::pending:
        break;
    }
    return "callback.retry";
}

} // namespace

std::string_view to_text(CallbackStatus s) {
    switch (s) {
    case CallbackStatus::pending:
        return "pending";
    case CallbackStatus::delivered:
        return "delivered";
    case CallbackStatus::failed:
        return "failed";
    }
    return "pending";
}

CallbackOutbox::CallbackOutbox(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {
}

std::optional<CallbackEvent> CallbackOutbox::claim(const std::vector<std::string>& senders,
                                                   TimeMs lease_ms) {
    if (senders.empty()) {
        return std::nullopt;
    }
    const TimeMs now = m_clock.now_ms();
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    // In order per request: an event waits while an earlier one of its request is pending (also
    // while that one waits for its retry).
    SQLite::Statement pick(m_db.db(),
                           "SELECT e.id FROM callback_events e WHERE e.status = 'pending' AND "
                           "e.next_attempt_at <= ?1 AND (e.lease_expires_at IS NULL OR "
                           "e.lease_expires_at <= ?1) AND e.sender IN (SELECT value FROM "
                           "json_each(?2)) AND NOT EXISTS (SELECT 1 FROM callback_events p WHERE "
                           "p.request = e.request AND p.id < e.id AND p.status = 'pending') "
                           "ORDER BY e.next_attempt_at, e.id LIMIT 1");
    pick.bind(1, now);
    pick.bind(2, sender_list(senders));
    if (!pick.executeStep()) {
        return std::nullopt;
    }
    const std::int64_t id = pick.getColumn(0).getInt64();
    SQLite::Statement lease(m_db.db(),
                            "UPDATE callback_events SET lease_expires_at = ? WHERE id = ?");
    lease.bind(1, now + lease_ms);
    lease.bind(2, id);
    lease.exec();
    SQLite::Statement q(m_db.db(), std::string("SELECT ") + k_event_columns +
                                       " FROM callback_events e JOIN requests r ON r.id = "
                                       "e.request WHERE e.id = ?");
    q.bind(1, id);
    q.executeStep();
    CallbackEvent event = read_event(q);
    tx.commit();
    return event;
}

std::string CallbackOutbox::fix_body(const CallbackEvent& event, const std::string& body) {
    SQLite::Statement upd(m_db.db(),
                          "UPDATE callback_events SET body = ? WHERE id = ? AND body IS NULL");
    upd.bind(1, body);
    upd.bind(2, event.id);
    upd.exec();
    SQLite::Statement q(m_db.db(), "SELECT body FROM callback_events WHERE id = ?");
    q.bind(1, event.id);
    q.executeStep();
    return q.getColumn(0).getString();
}

void CallbackOutbox::delivered(const CallbackEvent& event, const CallbackAttempt& attempt) {
    finish_attempt(event, attempt, CallbackStatus::delivered, std::nullopt);
}

void CallbackOutbox::retry_at(const CallbackEvent& event, const CallbackAttempt& attempt,
                              TimeMs next_attempt_at) {
    finish_attempt(event, attempt, CallbackStatus::pending, next_attempt_at);
}

void CallbackOutbox::failed(const CallbackEvent& event, const CallbackAttempt& attempt) {
    finish_attempt(event, attempt, CallbackStatus::failed, std::nullopt);
}

void CallbackOutbox::finish_attempt(const CallbackEvent& event, const CallbackAttempt& attempt,
                                    CallbackStatus status, std::optional<TimeMs> next_attempt_at) {
    const TimeMs now = m_clock.now_ms();
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upd(m_db.db(),
                          "UPDATE callback_events SET status = ?1, attempts = attempts + 1, "
                          "next_attempt_at = COALESCE(?2, next_attempt_at), lease_expires_at = "
                          "NULL, last_error = ?3, delivered_at = CASE WHEN ?1 = 'delivered' THEN "
                          "?4 END WHERE id = ?5");
    upd.bind(1, std::string(to_text(status)));
    if (next_attempt_at) {
        upd.bind(2, *next_attempt_at);
    } else {
        upd.bind(2);
    }
    if (attempt.error.empty()) {
        upd.bind(3);
    } else {
        upd.bind(3, attempt.error);
    }
    upd.bind(4, now);
    upd.bind(5, event.id);
    upd.exec();
    const std::int64_t attempts = event.attempts + 1; // the lease kept anyone else from it
    JsonWriter detail;
    detail.field("event_id", event.event_id)
        .field("sender", event.sender)
        .field("state", event.state)
        .field("attempt", attempts)
        .field("status", static_cast<std::int64_t>(attempt.status))
        .field("latency_ms", attempt.latency_ms);
    if (!attempt.error.empty()) {
        detail.field("error", attempt.error);
    }
    if (next_attempt_at) {
        detail.field("next_attempt_at", format_iso8601_ms(*next_attempt_at));
    }
    AuditAppender audit(m_db.db(), m_clock);
    audit.append(audit_event(status), event.request_id, event.subject_digest, detail.str());
    tx.commit();
}

std::optional<TimeMs> CallbackOutbox::next_due(const std::vector<std::string>& senders) {
    // An event behind an earlier pending one of its request is not due before that one.
    SQLite::Statement q(m_db.db(),
                        "SELECT min(e.next_attempt_at) FROM callback_events e WHERE e.status = "
                        "'pending' AND e.sender IN (SELECT value FROM json_each(?)) AND NOT "
                        "EXISTS (SELECT 1 FROM callback_events p WHERE p.request = e.request AND "
                        "p.id < e.id AND p.status = 'pending')");
    q.bind(1, sender_list(senders));
    if (!q.executeStep() || q.getColumn(0).isNull()) {
        return std::nullopt;
    }
    return q.getColumn(0).getInt64();
}

std::vector<CallbackEvent> CallbackOutbox::undelivered() {
    SQLite::Statement q(m_db.db(), std::string("SELECT ") + k_event_columns +
                                       " FROM callback_events e JOIN requests r ON r.id = "
                                       "e.request WHERE e.status <> 'delivered' ORDER BY e.id");
    std::vector<CallbackEvent> out;
    while (q.executeStep()) {
        out.push_back(read_event(q));
    }
    return out;
}

std::int64_t CallbackOutbox::requeue(const std::string& actor) {
    const TimeMs now = m_clock.now_ms();
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    AuditAppender audit(m_db.db(), m_clock);
    SQLite::Statement failed(m_db.db(), std::string("SELECT ") + k_event_columns +
                                            " FROM callback_events e JOIN requests r ON r.id = "
                                            "e.request WHERE e.status = 'failed' ORDER BY e.id");
    while (failed.executeStep()) {
        CallbackEvent e = read_event(failed);
        audit.append("callback.requeued", e.request_id, e.subject_digest,
                     JsonWriter()
                         .field("event_id", e.event_id)
                         .field("sender", e.sender)
                         .field("attempts", e.attempts)
                         .field("by", actor)
                         .str());
    }
    SQLite::Statement upd(m_db.db(),
                          "UPDATE callback_events SET status = 'pending', next_attempt_at = ?1, "
                          "retry_since = CASE WHEN status = 'failed' THEN ?1 ELSE retry_since END, "
                          "lease_expires_at = NULL WHERE status IN ('pending', 'failed')");
    upd.bind(1, now);
    const int n = upd.exec();
    tx.commit();
    return n;
}

} // namespace lethe::store
