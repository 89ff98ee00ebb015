#include "store/requests.hpp"

#include "util/error.hpp"
#include "util/json_writer.hpp"
#include "util/time.hpp"

namespace lethe::store {

const char* const k_request_columns =
    "r.id, r.request_id, r.identifier, r.id_type, r.subject_digest, r.source, r.received_at, "
    "r.deadline_at, r.extended_reason, r.state, p.request_id, r.attempts, r.next_attempt_at, "
    "r.lease_owner, r.lease_expires_at, r.last_error, r.created_at, r.updated_at, r.finished_at";

namespace {

constexpr const char* k_from = " FROM requests r LEFT JOIN requests p ON p.id = r.linked_to ";

std::optional<std::string> opt_text(const SQLite::Column& c) {
    return c.isNull() ? std::nullopt : std::optional<std::string>(c.getString());
}

std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
    return c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}

std::optional<RequestRow> find_row(SQLite::Database& db, const std::string& request_id) {
    SQLite::Statement q(db, std::string("SELECT ") + k_request_columns + k_from +
                                "WHERE r.request_id = ?");
    q.bind(1, request_id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return read_request_row(q);
}

RequestRow require_row(SQLite::Database& db, const std::string& request_id) {
    auto row = find_row(db, request_id);
    if (!row) {
        throw Error(ExitCode::failure, "request " + request_id + ": no such request");
    }
    return *row;
}

// Request id of the active primary request for a subject, if any.
std::optional<std::pair<std::int64_t, std::string>> active_primary(SQLite::Database& db,
                                                                   const std::string& digest) {
    SQLite::Statement q(db, "SELECT id, request_id FROM requests WHERE subject_digest = ? AND "
                            "state IN ('pending', 'suppressed') AND linked_to IS NULL");
    q.bind(1, digest);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return std::make_pair(q.getColumn(0).getInt64(), q.getColumn(1).getString());
}

} // namespace

RequestRow read_request_row(SQLite::Statement& q) {
    RequestRow r;
    r.id = q.getColumn(0).getInt64();
    r.request_id = q.getColumn(1).getString();
    r.identifier = opt_text(q.getColumn(2));
    r.id_type = q.getColumn(3).getString();
    r.subject_digest = q.getColumn(4).getString();
    r.source = q.getColumn(5).getString();
    r.received_at = q.getColumn(6).getInt64();
    r.deadline_at = q.getColumn(7).getInt64();
    r.extended_reason = opt_text(q.getColumn(8));
    r.state = q.getColumn(9).getString();
    r.linked_to = opt_text(q.getColumn(10));
    r.attempts = q.getColumn(11).getInt64();
    r.next_attempt_at = q.getColumn(12).getInt64();
    r.lease_owner = opt_text(q.getColumn(13));
    r.lease_expires_at = opt_int(q.getColumn(14));
    r.last_error = opt_text(q.getColumn(15));
    r.created_at = q.getColumn(16).getInt64();
    r.updated_at = q.getColumn(17).getInt64();
    r.finished_at = opt_int(q.getColumn(18));
    return r;
}

TimeMs initial_deadline(TimeMs received_at) {
    return add_calendar_months(received_at, 1);
}

TimeMs extended_deadline(TimeMs received_at) {
    return add_calendar_months(received_at, 3);
}

WriteBatch::WriteBatch(Database& db, const Clock& clock)
    : m_db(db), m_clock(clock), m_tx(db.db(), SQLite::TransactionBehavior::IMMEDIATE),
      m_audit(db.db(), clock),
      m_find_by_request_id(db.db(), "SELECT subject_digest, id_type, received_at FROM requests "
                                    "WHERE request_id = ?"),
      m_find_active_subject(db.db(), "SELECT id, request_id FROM requests WHERE subject_digest = "
                                     "? AND state IN ('pending', 'suppressed') AND linked_to IS "
                                     "NULL"),
      m_insert(db.db(), "INSERT INTO requests (request_id, identifier, id_type, subject_digest, "
                        "source, received_at, deadline_at, state, linked_to, next_attempt_at, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, "
                        "?)") {
}

InsertResult WriteBatch::insert(const NewRequest& r) {
    m_find_by_request_id.reset();
    m_find_by_request_id.bind(1, r.request_id);
    if (m_find_by_request_id.executeStep()) {
        bool same =
            m_find_by_request_id.getColumn(0).getString() == r.subject_digest &&
            m_find_by_request_id.getColumn(1).getString() == r.id_type &&
            (!r.received_at_given || m_find_by_request_id.getColumn(2).getInt64() == r.received_at);
        return {same ? InsertOutcome::known : InsertOutcome::conflict, {}};
    }

    m_find_active_subject.reset();
    m_find_active_subject.bind(1, r.subject_digest);
    std::optional<std::int64_t> primary_id;
    std::string primary_request_id;
    if (m_find_active_subject.executeStep()) {
        primary_id = m_find_active_subject.getColumn(0).getInt64();
        primary_request_id = m_find_active_subject.getColumn(1).getString();
    }

    const TimeMs now = m_clock.now_ms();
    const TimeMs deadline = initial_deadline(r.received_at);
    m_insert.reset();
    m_insert.bind(1, r.request_id);
    m_insert.bind(2, r.identifier);
    m_insert.bind(3, r.id_type);
    m_insert.bind(4, r.subject_digest);
    m_insert.bind(5, r.source);
    m_insert.bind(6, r.received_at);
    m_insert.bind(7, deadline);
    if (primary_id) {
        m_insert.bind(8, *primary_id);
    } else {
        m_insert.bind(8);
    }
    m_insert.bind(9, now);
    m_insert.bind(10, now);
    m_insert.bind(11, now);
    m_insert.exec();

    JsonWriter detail;
    detail.field("source", r.source)
        .field("id_type", r.id_type)
        .field("received_at", format_iso8601_ms(r.received_at))
        .field("deadline_at", format_iso8601_ms(deadline));
    if (primary_id) {
        detail.field("linked_to", primary_request_id);
    }
    m_audit.append("request.received", r.request_id, r.subject_digest, detail.str());
    if (primary_id) {
        return {InsertOutcome::linked, primary_request_id};
    }
    return {InsertOutcome::created, {}};
}

void WriteBatch::commit() {
    m_tx.commit();
}

RequestQueue::RequestQueue(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {
}

std::optional<RequestRow> RequestQueue::find(const std::string& request_id) {
    return find_row(m_db.db(), request_id);
}

void RequestQueue::cancel(const std::string& request_id, const std::string& reason,
                          const std::string& actor) {
    auto& db = m_db.db();
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    RequestRow row = require_row(db, request_id);
    if (row.state != "pending") {
        throw Error(ExitCode::failure, "request " + request_id +
                                           ": cannot cancel a request in "
                                           "state " +
                                           row.state + " (only pending requests)");
    }
    if (row.lease_expires_at && *row.lease_expires_at > m_clock.now_ms()) {
        throw Error(ExitCode::failure, "request " + request_id +
                                           ": a worker is erasing it right now; try again later");
    }
    const TimeMs now = m_clock.now_ms();
    AuditAppender audit(db, m_clock);
    SQLite::Statement upd(db, "UPDATE requests SET state = 'cancelled', linked_to = NULL, "
                              "identifier = NULL, last_error = NULL, lease_owner = NULL, "
                              "lease_expires_at = NULL, updated_at = ?, finished_at = ? "
                              "WHERE id = ?");
    upd.bind(1, now);
    upd.bind(2, now);
    upd.bind(3, row.id);
    upd.exec();
    audit.append("request.cancelled", row.request_id, row.subject_digest,
                 JsonWriter().field("reason", reason).field("by", actor).str());

    // A request that waited on this one becomes the active request; the rest wait on it.
    SQLite::Statement waiting(db, "SELECT id, request_id FROM requests WHERE linked_to = ? AND "
                                  "state = 'pending' ORDER BY id");
    waiting.bind(1, row.id);
    std::optional<std::int64_t> new_primary;
    while (waiting.executeStep()) {
        std::int64_t id = waiting.getColumn(0).getInt64();
        std::string rid = waiting.getColumn(1).getString();
        SQLite::Statement relink(db, "UPDATE requests SET linked_to = ?, next_attempt_at = ?, "
                                     "updated_at = ? WHERE id = ?");
        if (new_primary) {
            relink.bind(1, *new_primary);
        } else {
            relink.bind(1);
        }
        relink.bind(2, now);
        relink.bind(3, now);
        relink.bind(4, id);
        relink.exec();
        audit.append("request.relinked", rid, row.subject_digest,
                     JsonWriter()
                         .field("previous", row.request_id)
                         .field("role", new_primary ? "linked" : "active")
                         .str());
        if (!new_primary) {
            new_primary = id;
        }
    }
    tx.commit();
}

void RequestQueue::revive(SQLite::Database& db, AuditAppender& audit, const RequestRow& row,
                          const std::string& actor) {
    const TimeMs now = m_clock.now_ms();
    auto primary = active_primary(db, row.subject_digest);
    SQLite::Statement upd(db, "UPDATE requests SET state = 'pending', attempts = 0, "
                              "next_attempt_at = ?, last_error = NULL, lease_owner = NULL, "
                              "lease_expires_at = NULL, linked_to = ?, updated_at = ?, "
                              "finished_at = NULL WHERE id = ?");
    upd.bind(1, now);
    if (primary) {
        upd.bind(2, primary->first);
    } else {
        upd.bind(2);
    }
    upd.bind(3, now);
    upd.bind(4, row.id);
    upd.exec();
    JsonWriter detail;
    detail.field("by", actor).field("previous_error", row.last_error.value_or(""));
    if (primary) {
        detail.field("linked_to", primary->second);
    }
    audit.append("request.retried", row.request_id, row.subject_digest, detail.str());
}

std::int64_t RequestQueue::retry(const std::vector<std::string>& request_ids,
                                 const std::string& actor) {
    auto& db = m_db.db();
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    AuditAppender audit(db, m_clock);
    std::int64_t revived = 0;
    for (const auto& request_id : request_ids) {
        RequestRow row = require_row(db, request_id);
        if (row.state != "dead") {
            throw Error(ExitCode::failure, "request " + request_id + ": is " + row.state +
                                               ", only dead requests can be retried");
        }
        revive(db, audit, row, actor);
        ++revived;
    }
    tx.commit();
    return revived;
}

std::int64_t RequestQueue::retry_all_dead(const std::string& actor) {
    auto& db = m_db.db();
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    AuditAppender audit(db, m_clock);
    std::vector<RequestRow> dead;
    SQLite::Statement q(db, std::string("SELECT ") + k_request_columns + k_from +
                                "WHERE r.state = 'dead' ORDER BY r.id");
    while (q.executeStep()) {
        dead.push_back(read_request_row(q));
    }
    for (const auto& row : dead) {
        revive(db, audit, row, actor);
    }
    tx.commit();
    return static_cast<std::int64_t>(dead.size());
}

void RequestQueue::extend(const std::string& request_id, const std::string& reason,
                          const std::string& actor) {
    auto& db = m_db.db();
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    RequestRow row = require_row(db, request_id);
    if (row.state == "done" || row.state == "cancelled") {
        throw Error(ExitCode::failure,
                    "request " + request_id + ": is " + row.state + "; nothing to extend");
    }
    if (row.extended_reason) {
        throw Error(ExitCode::failure,
                    "request " + request_id +
                        ": the deadline was already extended once (Art. 12(3) GDPR allows one "
                        "extension by two further months)");
    }
    const TimeMs deadline = extended_deadline(row.received_at);
    SQLite::Statement upd(db, "UPDATE requests SET deadline_at = ?, extended_reason = ?, "
                              "updated_at = ? WHERE id = ?");
    upd.bind(1, deadline);
    upd.bind(2, reason);
    upd.bind(3, m_clock.now_ms());
    upd.bind(4, row.id);
    upd.exec();
    AuditAppender audit(db, m_clock);
    audit.append("request.extended", row.request_id, row.subject_digest,
                 JsonWriter()
                     .field("reason", reason)
                     .field("by", actor)
                     .field("previous_deadline_at", format_iso8601_ms(row.deadline_at))
                     .field("deadline_at", format_iso8601_ms(deadline))
                     .str());
    tx.commit();
}

StatusSummary RequestQueue::status() {
    auto& db = m_db.db();
    const TimeMs now = m_clock.now_ms();
    StatusSummary s;
    for (const char* state : k_states) {
        s.counts[state] = 0;
    }
    SQLite::Statement counts(db, "SELECT state, count(*) FROM requests GROUP BY state");
    while (counts.executeStep()) {
        s.counts[counts.getColumn(0).getString()] = counts.getColumn(1).getInt64();
    }
    SQLite::Statement q(db,
                        "SELECT "
                        " (SELECT count(*) FROM requests WHERE state IN ('pending', 'suppressed') "
                        "   AND linked_to IS NOT NULL),"
                        " (SELECT count(*) FROM requests WHERE state IN ('pending', "
                        "   'suppressed', 'dead') AND deadline_at < ?1),"
                        " (SELECT min(received_at) FROM requests WHERE state IN ('pending', "
                        "   'suppressed')),"
                        " (SELECT min(next_attempt_at) FROM requests WHERE state IN ('pending', "
                        "   'suppressed') AND linked_to IS NULL AND next_attempt_at > ?1),"
                        " (SELECT count(*) FROM requests WHERE state IN ('pending', "
                        "   'suppressed') AND linked_to IS NULL AND next_attempt_at > ?1)");
    q.bind(1, now);
    q.executeStep();
    s.linked = q.getColumn(0).getInt64();
    s.overdue = q.getColumn(1).getInt64();
    s.oldest_pending_received_at = opt_int(q.getColumn(2));
    s.next_retry_at = opt_int(q.getColumn(3));
    s.waiting_retry = q.getColumn(4).getInt64();
    return s;
}

std::vector<RequestRow> RequestQueue::list(const ListFilter& filter) {
    std::string sql = std::string("SELECT ") + k_request_columns + k_from + "WHERE 1";
    if (filter.state) {
        sql += " AND r.state = :state";
    }
    if (filter.overdue_only) {
        sql += " AND r.state IN ('pending', 'suppressed', 'dead') AND r.deadline_at < :now";
    }
    sql += " ORDER BY r.id";
    if (filter.limit > 0) {
        sql += " LIMIT " + std::to_string(filter.limit);
    }
    SQLite::Statement q(m_db.db(), sql);
    if (filter.state) {
        q.bind(":state", *filter.state);
    }
    if (filter.overdue_only) {
        q.bind(":now", m_clock.now_ms());
    }
    std::vector<RequestRow> rows;
    while (q.executeStep()) {
        rows.push_back(read_request_row(q));
    }
    return rows;
}

} // namespace lethe::store
