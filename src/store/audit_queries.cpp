#include "store/audit_queries.hpp"

#include <SQLiteCpp/Transaction.h>

namespace lethe::store {
namespace {

std::string_view text_of(SQLite::Statement& q, int column) {
    // getText() never copies; getBytes() must be asked after it (SQLite converts on demand).
    const SQLite::Column c = q.getColumn(column);
    const char* text = c.getText();
    return {text, static_cast<std::size_t>(c.getBytes())};
}

std::optional<TimeMs> optional_time(const SQLite::Column& c) {
    if (c.isNull()) {
        return std::nullopt;
    }
    return c.getInt64();
}

} // namespace

AuditSnapshot::AuditSnapshot(Database& db)
    : m_db(db), m_tx(db.db(), SQLite::TransactionBehavior::DEFERRED),
      // The first read starts the snapshot; everything after sees the same database.
      m_head(read_chain_head(db.db())), m_tree(db.db()) {
}

std::optional<SeqRange>
AuditSnapshot::seq_range_for_time(const std::optional<std::string>& since_at,
                                  const std::optional<std::string>& until_at) {
    SQLite::Statement q(m_db.db(), "SELECT (SELECT min(seq) FROM audit_log WHERE ?1 IS NULL OR "
                                   "at >= ?1), (SELECT max(seq) FROM audit_log WHERE ?2 IS NULL "
                                   "OR at < ?2)");
    if (since_at) {
        q.bind(1, *since_at);
    }
    if (until_at) {
        q.bind(2, *until_at);
    }
    q.executeStep();
    if (q.getColumn(0).isNull() || q.getColumn(1).isNull()) {
        return std::nullopt;
    }
    SeqRange r{q.getColumn(0).getInt64(), q.getColumn(1).getInt64()};
    if (r.first > r.last) {
        return std::nullopt;
    }
    return r;
}

std::optional<std::string> AuditSnapshot::hash_at(std::int64_t seq) {
    SQLite::Statement q(m_db.db(), "SELECT hash FROM audit_log WHERE seq = ?");
    q.bind(1, seq);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return q.getColumn(0).getString();
}

std::optional<StoredCheckpoint> AuditSnapshot::latest_checkpoint() {
    SQLite::Statement q(m_db.db(), "SELECT id, created_at, size, head_hash, note FROM checkpoints "
                                   "ORDER BY size DESC, id DESC LIMIT 1");
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return StoredCheckpoint{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                            q.getColumn(2).getInt64(), q.getColumn(3).getString(),
                            q.getColumn(4).getString()};
}

AuditCursor::AuditCursor(Database& db, SeqRange range)
    : m_query(db.db(), "SELECT seq, at, event, request_ref, subject_digest, detail, prev_hash, "
                       "hash FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq") {
    m_query.bind(1, range.first);
    m_query.bind(2, range.last);
}

bool AuditCursor::next(AuditEntryView& out) {
    if (!m_query.executeStep()) {
        return false;
    }
    out.seq = m_query.getColumn(0).getInt64();
    out.at = text_of(m_query, 1);
    out.event = text_of(m_query, 2);
    out.request_ref = text_of(m_query, 3);
    out.subject_digest = text_of(m_query, 4);
    out.detail = text_of(m_query, 5);
    out.prev_hash = text_of(m_query, 6);
    out.hash = text_of(m_query, 7);
    return true;
}

void insert_checkpoint(Database& db, TimeMs created_at, std::int64_t size,
                       std::string_view head_hash, std::string_view note) {
    SQLite::Transaction tx(db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement q(db.db(), "INSERT INTO checkpoints (created_at, size, head_hash, note) "
                                 "VALUES (?, ?, ?, ?)");
    q.bind(1, created_at);
    q.bind(2, size);
    q.bind(3, std::string(head_hash));
    q.bind(4, std::string(note));
    q.exec();
    tx.commit();
}

std::optional<std::string> request_subject_digest(Database& db, std::string_view request_id) {
    SQLite::Statement q(db.db(), "SELECT subject_digest FROM requests WHERE request_id = ?");
    q.bind(1, std::string(request_id));
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return q.getColumn(0).getString();
}

void for_each_subject_entry(Database& db, std::string_view digest,
                            const std::function<void(const AuditEntry&)>& fn) {
    SQLite::Statement q(db.db(), "SELECT seq, at, event, request_ref, subject_digest, detail, "
                                 "prev_hash, hash FROM audit_log WHERE subject_digest = ? AND "
                                 "subject_digest <> '' ORDER BY seq");
    q.bind(1, std::string(digest));
    AuditEntry e;
    while (q.executeStep()) {
        e.seq = q.getColumn(0).getInt64();
        e.at = q.getColumn(1).getString();
        e.event = q.getColumn(2).getString();
        e.request_ref = q.getColumn(3).getString();
        e.subject_digest = q.getColumn(4).getString();
        e.detail = q.getColumn(5).getString();
        e.prev_hash = q.getColumn(6).getString();
        e.hash = q.getColumn(7).getString();
        fn(e);
    }
}

std::vector<SubjectRequest> subject_requests(Database& db, std::string_view digest) {
    SQLite::Statement q(db.db(), "SELECT r.request_id, r.state, r.received_at, r.deadline_at, "
                                 "r.finished_at, p.request_id, r.id FROM requests r LEFT JOIN "
                                 "requests p ON p.id = r.linked_to WHERE r.subject_digest = ? "
                                 "ORDER BY r.received_at, r.id");
    SQLite::Statement erasures(db.db(), "SELECT workspace, state || CASE WHEN state = 'done' "
                                        "AND verified = 1 THEN ' (verified)' WHEN state = "
                                        "'done' AND verified = 0 THEN ' (unverified)' ELSE '' "
                                        "END FROM erasures WHERE request = ? ORDER BY workspace");
    q.bind(1, std::string(digest));
    std::vector<SubjectRequest> out;
    while (q.executeStep()) {
        SubjectRequest r;
        r.request_id = q.getColumn(0).getString();
        r.state = q.getColumn(1).getString();
        r.received_at = q.getColumn(2).getInt64();
        r.deadline_at = q.getColumn(3).getInt64();
        r.finished_at = optional_time(q.getColumn(4));
        if (!q.getColumn(5).isNull()) {
            r.linked_to = q.getColumn(5).getString();
        }
        if (r.state == "suppressed") {
            r.state = "pending"; // schema 1, before the first run after the upgrade
        }
        erasures.reset();
        erasures.bind(1, q.getColumn(6).getInt64());
        while (erasures.executeStep()) {
            r.erasures.emplace_back(erasures.getColumn(0).getString(),
                                    erasures.getColumn(1).getString());
        }
        out.push_back(std::move(r));
    }
    return out;
}

void for_each_report_request(Database& db, TimeMs since, TimeMs until,
                             const std::function<void(const ReportRequestRow&)>& fn) {
    SQLite::Statement q(db.db(), "SELECT request_id, state, received_at, deadline_at, "
                                 "finished_at, linked_to IS NOT NULL FROM requests WHERE "
                                 "received_at >= ? AND received_at < ? ORDER BY received_at, id");
    q.bind(1, since);
    q.bind(2, until);
    ReportRequestRow r;
    while (q.executeStep()) {
        r.request_id = q.getColumn(0).getString();
        r.state = q.getColumn(1).getString();
        r.received_at = q.getColumn(2).getInt64();
        r.deadline_at = q.getColumn(3).getInt64();
        r.finished_at = optional_time(q.getColumn(4));
        r.linked = q.getColumn(5).getInt() != 0;
        fn(r);
    }
}

std::map<std::string, std::map<std::string, std::int64_t>>
report_workspace_counts(Database& db, TimeMs since, TimeMs until) {
    SQLite::Statement q(db.db(), "SELECT e.workspace, e.state, count(*) FROM erasures e JOIN "
                                 "requests r ON r.id = e.request WHERE r.received_at >= ?1 AND "
                                 "r.received_at < ?2 GROUP BY e.workspace, e.state UNION ALL "
                                 "SELECT e.workspace, 'unverified', count(*) FROM erasures e "
                                 "JOIN requests r ON r.id = e.request WHERE r.received_at >= ?1 "
                                 "AND r.received_at < ?2 AND e.state = 'done' AND e.verified = 0 "
                                 "GROUP BY e.workspace");
    q.bind(1, since);
    q.bind(2, until);
    std::map<std::string, std::map<std::string, std::int64_t>> out;
    while (q.executeStep()) {
        out[q.getColumn(0).getString()][q.getColumn(1).getString()] = q.getColumn(2).getInt64();
    }
    return out;
}

std::optional<TimeMs> earliest_received_at(Database& db) {
    SQLite::Statement q(db.db(), "SELECT min(received_at) FROM requests");
    q.executeStep();
    return optional_time(q.getColumn(0));
}

} // namespace lethe::store
