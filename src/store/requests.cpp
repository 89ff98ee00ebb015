#include "store/requests.hpp"

#include "erasure/lifecycle.hpp"
#include "util/error.hpp"
#include "util/json_writer.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <set>
#include <sstream>

namespace lethe::store {

// The erasures come as one "ws:state:attempts ws2:..." text (workspace names are [a-z0-9-]).
const char* const k_request_columns =
    "r.id, r.request_id, r.identifier, r.id_type, r.subject_digest, r.source, r.received_at, "
    "r.deadline_at, r.extended_reason, r.state, p.request_id, r.workspaces, "
    "(SELECT COALESCE(sum(attempts), 0) FROM erasures WHERE request = r.id), "
    "COALESCE(r.last_error, (SELECT 'workspace ' || workspace || ': ' || last_error FROM erasures "
    "  WHERE request = r.id AND last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1)), "
    "r.created_at, r.updated_at, r.finished_at, "
    "(SELECT group_concat(workspace || ':' || state || ':' || attempts || ':' || "
    "  COALESCE(verified, '-'), ' ') FROM (SELECT workspace, state, attempts, verified FROM "
    "  erasures WHERE request = r.id ORDER BY workspace))";

namespace {

constexpr const char* k_from = " FROM requests r LEFT JOIN requests p ON p.id = r.linked_to ";

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, sep)) {
        if (!item.empty()) {
            out.push_back(item);
        }
    }
    return out;
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

std::optional<std::string> open_identifier(Database& db, const RequestRow& row) {
    if (!row.identifier) {
        return std::nullopt;
    }
    if (!row.identifier->sealed) {
        return row.identifier->bytes;
    }
    return db.cipher().open_identifier(row.identifier->bytes, row.request_id);
}

RequestRow read_request_row(SQLite::Statement& q) {
    RequestRow r;
    r.id = q.getColumn(0).getInt64();
    r.request_id = q.getColumn(1).getString();
    if (const SQLite::Column c = q.getColumn(2); !c.isNull()) {
        r.identifier = StoredIdentifier{std::string(column_bytes(c)), c.isBlob()};
    }
    r.id_type = q.getColumn(3).getString();
    r.subject_digest = q.getColumn(4).getString();
    r.source = q.getColumn(5).getString();
    r.received_at = q.getColumn(6).getInt64();
    r.deadline_at = q.getColumn(7).getInt64();
    r.extended_reason = column_text(q.getColumn(8));
    r.state = q.getColumn(9).getString();
    if (r.state == "suppressed") {
        r.state = "pending"; // schema 1, before the first run after the upgrade
    }
    r.linked_to = column_text(q.getColumn(10));
    r.workspaces = column_text(q.getColumn(11));
    r.attempts = q.getColumn(12).getInt64();
    r.last_error = column_text(q.getColumn(13));
    r.created_at = q.getColumn(14).getInt64();
    r.updated_at = q.getColumn(15).getInt64();
    r.finished_at = opt_int(q.getColumn(16));
    for (const auto& item : split(column_text(q.getColumn(17)).value_or(""), ' ')) {
        auto parts = split(item, ':');
        if (parts.size() == 4) {
            ErasureSummary e{parts[0], parts[1], std::stoll(parts[2]), std::nullopt};
            if (parts[3] != "-") {
                e.verified = parts[3] == "1";
            }
            r.erasures.push_back(std::move(e));
        }
    }
    return r;
}

bool same_request(const RequestKey& stored, const NewRequest& r) {
    // A request that finished before subject digest v2 keeps the digest it had then.
    const bool same_subject =
        stored.subject_digest == r.subject_digest ||
        (!r.legacy_digest.empty() && stored.subject_digest == r.legacy_digest);
    const std::optional<std::string> scope =
        r.workspaces ? std::optional<std::string>(scope_text(*r.workspaces)) : std::nullopt;
    return same_subject && stored.id_type == r.id_type &&
           (!r.received_at_given || stored.received_at == r.received_at) && stored.scope == scope;
}

TimeMs initial_deadline(TimeMs received_at) {
    return add_calendar_months(received_at, 1);
}

TimeMs extended_deadline(TimeMs received_at) {
    return add_calendar_months(received_at, 3);
}

ErasureInserter::ErasureInserter(SQLite::Database& db, const Clock& clock)
    : m_clock(clock),
      m_insert(db, "INSERT OR IGNORE INTO erasures (request, workspace, next_attempt_at, "
                   "created_at, updated_at) VALUES (?1, ?2, ?3, ?3, ?3)") {
}

bool ErasureInserter::add(std::int64_t request_row, const std::string& workspace) {
    m_insert.reset();
    m_insert.bind(1, request_row);
    m_insert.bind(2, workspace);
    m_insert.bind(3, m_clock.now_ms());
    return m_insert.exec() == 1;
}

std::vector<std::string> scope_list(const std::string& text) {
    return split(text, ',');
}

std::string scope_text(const std::vector<std::string>& workspaces) {
    std::string out;
    for (const auto& w : workspaces) {
        out += (out.empty() ? "" : ",") + w;
    }
    return out;
}

int widen_scope(SQLite::Database& db, AuditAppender& audit, const Clock& clock,
                std::int64_t request_row, const std::optional<std::vector<std::string>>& scope,
                const std::vector<std::string>& workspaces) {
    SQLite::Statement q(db, "SELECT request_id, subject_digest, workspaces FROM requests WHERE "
                            "id = ?");
    q.bind(1, request_row);
    if (!q.executeStep()) {
        return 0;
    }
    const std::string request_id = q.getColumn(0).getString();
    const std::string digest = q.getColumn(1).getString();
    const std::optional<std::string> current = column_text(q.getColumn(2));
    if (current) {
        std::optional<std::string> widened;
        if (scope) {
            std::set<std::string> all(scope->begin(), scope->end());
            for (const auto& w : split(*current, ',')) {
                all.insert(w);
            }
            widened = scope_text({all.begin(), all.end()});
        }
        if (widened != current) {
            SQLite::Statement upd(db, "UPDATE requests SET workspaces = ? WHERE id = ?");
            if (widened) {
                upd.bind(1, *widened);
            } else {
                upd.bind(1);
            }
            upd.bind(2, request_row);
            upd.exec();
        }
    }
    ErasureInserter erasures(db, clock);
    int added = 0;
    for (const auto& w : workspaces) {
        if (erasures.add(request_row, w)) {
            audit.append(erasure::to_text(erasure::Event::erasure_planned), request_id, digest,
                         JsonWriter().field("workspace", w).str());
            ++added;
        }
    }
    return added;
}

WriteBatch::WriteBatch(Database& db, const Clock& clock,
                       std::vector<std::string> configured_workspaces)
    : m_db(db), m_clock(clock),
      m_tx(std::in_place, db.db(), SQLite::TransactionBehavior::IMMEDIATE), m_audit(db.db(), clock),
      m_find_by_request_id(db.db(), "SELECT subject_digest, id_type, received_at, workspaces, "
                                    "sender FROM requests WHERE request_id = ?"),
      m_find_staged(db.db(), "SELECT subject_digest, legacy_digest, id_type, received_at, "
                             "received_at_given, workspaces FROM import_staging WHERE request_id "
                             "= ?1 OR legacy_request_id = ?1"),
      m_find_active_subject(db.db(), "SELECT id, request_id, sender FROM requests WHERE "
                                     "subject_digest = ? AND state IN ('pending', 'suppressed') "
                                     "AND linked_to IS NULL"),
      m_insert(db.db(), "INSERT INTO requests (request_id, identifier, id_type, subject_digest, "
                        "source, received_at, deadline_at, state, linked_to, next_attempt_at, "
                        "created_at, updated_at, workspaces, sender, callback) VALUES (?, ?, ?, "
                        "?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)"),
      m_erasures(db.db(), clock), m_workspaces(std::move(configured_workspaces)) {
}

InsertResult WriteBatch::insert(const NewRequest& r) {
    const std::optional<std::string> scope =
        r.workspaces ? std::optional<std::string>(scope_text(*r.workspaces)) : std::nullopt;
    for (const std::string* id : {&r.request_id, &r.legacy_request_id}) {
        if (id->empty()) {
            continue;
        }
        m_find_by_request_id.reset();
        m_find_by_request_id.bind(1, *id);
        if (m_find_by_request_id.executeStep()) {
            // Another sender's request_id: refused whatever its content, so that a sender
            // learns nothing of another's requests (not even that the content matches).
            if (!r.sender.empty() &&
                column_text(m_find_by_request_id.getColumn(4)).value_or("") != r.sender) {
                return {InsertOutcome::conflict, {}, *id, {}, true};
            }
            const RequestKey stored{m_find_by_request_id.getColumn(0).getString(),
                                    m_find_by_request_id.getColumn(1).getString(),
                                    m_find_by_request_id.getColumn(2).getInt64(),
                                    column_text(m_find_by_request_id.getColumn(3))};
            return {same_request(stored, r) ? InsertOutcome::known : InsertOutcome::conflict,
                    {},
                    *id,
                    {},
                    false};
        }
    }
    if (conflicts_with_staged(r, scope)) {
        return {InsertOutcome::conflict, {}, r.request_id, {}, !r.sender.empty()};
    }

    m_find_active_subject.reset();
    m_find_active_subject.bind(1, r.subject_digest);
    std::optional<std::int64_t> primary_id;
    std::string primary_request_id;
    std::string primary_sender;
    if (m_find_active_subject.executeStep()) {
        primary_id = m_find_active_subject.getColumn(0).getInt64();
        primary_request_id = m_find_active_subject.getColumn(1).getString();
        primary_sender = column_text(m_find_active_subject.getColumn(2)).value_or("");
    }

    const TimeMs now = m_clock.now_ms();
    const TimeMs deadline = initial_deadline(r.received_at);
    m_insert.reset();
    m_insert.bind(1, r.request_id);
    bind_blob(m_insert, 2,
              r.identifier_sealed ? r.identifier
                                  : m_db.cipher().seal_identifier(r.identifier, r.request_id));
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
    if (scope) {
        m_insert.bind(12, *scope);
    } else {
        m_insert.bind(12);
    }
    if (r.sender.empty()) {
        m_insert.bind(13);
    } else {
        m_insert.bind(13, r.sender);
    }
    m_insert.bind(14, r.callback ? 1 : 0);
    m_insert.exec();
    const std::int64_t row = m_db.db().getLastInsertRowid();

    JsonWriter detail;
    detail.field("source", r.source)
        .field("id_type", r.id_type)
        .field("received_at", format_iso8601_ms(r.received_at))
        .field("deadline_at", format_iso8601_ms(deadline));
    if (scope) {
        detail.field("workspaces", *scope);
    }
    if (primary_id) {
        detail.field("linked_to", primary_request_id);
    }
    if (!r.sender.empty()) {
        detail.field("sender", r.sender);
    }
    m_audit.append("request.received", r.request_id, r.subject_digest, detail.str());
    const std::vector<std::string>& erase_in = r.workspaces ? *r.workspaces : m_workspaces;
    if (primary_id) {
        // Linked: the active request erases the person, also where only this one asked.
        widen_scope(m_db.db(), m_audit, m_clock, *primary_id, r.workspaces, erase_in);
        return {InsertOutcome::linked, primary_request_id, {}, primary_sender, false};
    }
    for (const auto& w : erase_in) {
        m_erasures.add(row, w);
    }
    return {InsertOutcome::created, {}, {}, {}, false};
}

bool WriteBatch::conflicts_with_staged(const NewRequest& r,
                                       const std::optional<std::string>& scope) {
    // When the import lands, its row `staged` is the one sent again and `r` the one stored.
    const RequestKey stored{r.subject_digest, r.id_type, r.received_at, scope};
    m_find_staged.reset();
    m_find_staged.bind(1, r.request_id);
    while (m_find_staged.executeStep()) {
        if (!r.sender.empty()) {
            return true; // an import's request_id: not this sender's, whatever its content
        }
        NewRequest staged;
        staged.subject_digest = m_find_staged.getColumn(0).getString();
        staged.legacy_digest = column_text(m_find_staged.getColumn(1)).value_or("");
        staged.id_type = m_find_staged.getColumn(2).getString();
        staged.received_at = m_find_staged.getColumn(3).getInt64();
        staged.received_at_given = m_find_staged.getColumn(4).getInt() != 0;
        if (auto text = column_text(m_find_staged.getColumn(5))) {
            staged.workspaces = scope_list(*text);
        }
        if (!same_request(stored, staged)) {
            return true;
        }
    }
    return false;
}

void WriteBatch::commit() {
    // No statement may be left stepping: it would keep a read snapshot open past the commit,
    // and the next transaction could not write from it.
    m_find_by_request_id.reset();
    m_find_staged.reset();
    m_find_active_subject.reset();
    m_insert.reset();
    m_erasures.reset();
    m_audit.reset();
    m_tx->commit();
}

void WriteBatch::begin_next() {
    m_tx.emplace(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    m_audit.resume(m_db.db());
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
    const TimeMs now = m_clock.now_ms();
    SQLite::Statement started(db, "SELECT workspace, state, lease_expires_at FROM erasures WHERE "
                                  "request = ? AND (state <> 'pending' OR lease_expires_at > ?) "
                                  "ORDER BY workspace LIMIT 1");
    started.bind(1, row.id);
    started.bind(2, now);
    if (started.executeStep()) {
        const std::string ws = started.getColumn(0).getString();
        if (started.getColumn(1).getString() == "pending") {
            throw Error(ExitCode::failure, "request " + request_id +
                                               ": a worker is erasing it in "
                                               "workspace " +
                                               ws + " right now; try again later");
        }
        throw Error(ExitCode::failure, "request " + request_id + ": its erasure in workspace " +
                                           ws + " is already " + started.getColumn(1).getString() +
                                           "; only requests whose erasures have not begun can be "
                                           "cancelled");
    }
    AuditAppender audit(db, m_clock);
    SQLite::Statement upd(db, "UPDATE requests SET state = 'cancelled', linked_to = NULL, "
                              "identifier = NULL, last_error = NULL, lease_owner = NULL, "
                              "lease_expires_at = NULL, updated_at = ?, finished_at = ? "
                              "WHERE id = ?");
    upd.bind(1, now);
    upd.bind(2, now);
    upd.bind(3, row.id);
    upd.exec();
    SQLite::Statement erasures(db, "UPDATE erasures SET state = 'cancelled', lease_owner = NULL, "
                                   "lease_expires_at = NULL, updated_at = ?1, finished_at = ?1 "
                                   "WHERE request = ?2 AND state = 'pending'");
    erasures.bind(1, now);
    erasures.bind(2, row.id);
    erasures.exec();
    audit.append("request.cancelled", row.request_id, row.subject_digest,
                 JsonWriter().field("reason", reason).field("by", actor).str());

    // The new active request gets its erasures from the worker's next plan (WorkerQueue::plan).
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
    SQLite::Statement upd(db, "UPDATE requests SET state = 'pending', last_error = NULL, "
                              "linked_to = ?, updated_at = ?, finished_at = NULL WHERE id = ?");
    if (primary) {
        upd.bind(1, primary->first);
    } else {
        upd.bind(1);
    }
    upd.bind(2, now);
    upd.bind(3, row.id);
    upd.exec();
    // Only what is unfinished resumes: the dead erasures. Done ones stay done.
    std::vector<std::string> dead;
    for (const auto& e : row.erasures) {
        if (e.state == erasure::to_text(erasure::ErasureState::dead)) {
            dead.push_back(e.workspace);
        }
    }
    JsonWriter detail;
    detail.field("by", actor).field("previous_error", row.last_error.value_or(""));
    if (primary) {
        // Another request for the person is active: it takes over where this one failed.
        std::optional<std::vector<std::string>> scope;
        if (row.workspaces) {
            scope = split(*row.workspaces, ',');
        }
        widen_scope(db, audit, m_clock, primary->first, scope, dead);
        detail.field("linked_to", primary->second);
    } else {
        SQLite::Statement again(db, "UPDATE erasures SET state = 'pending', attempts = 0, "
                                    "next_attempt_at = ?1, last_error = NULL, lease_owner = NULL, "
                                    "lease_expires_at = NULL, updated_at = ?1, finished_at = NULL "
                                    "WHERE request = ?2 AND state = 'dead'");
        again.bind(1, now);
        again.bind(2, row.id);
        again.exec();
    }
    detail.field("workspaces", scope_text(dead));
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
    for (auto state : erasure::k_request_states) {
        s.counts[std::string(erasure::to_text(state))] = 0;
    }
    SQLite::Statement counts(db, "SELECT state, count(*) FROM requests GROUP BY state");
    while (counts.executeStep()) {
        // A schema-1 request still 'suppressed' (before the first run after the upgrade) is
        // pending: its erasures are not finished.
        std::string state = counts.getColumn(0).getString();
        s.counts[state == "suppressed" ? "pending" : state] += counts.getColumn(1).getInt64();
    }
    SQLite::Statement per_ws(db, "SELECT workspace, state, count(*) FROM erasures GROUP BY "
                                 "workspace, state UNION ALL SELECT workspace, 'unverified', "
                                 "count(*) FROM erasures WHERE state = 'done' AND verified = 0 "
                                 "GROUP BY workspace");
    while (per_ws.executeStep()) {
        auto& m = s.by_workspace[per_ws.getColumn(0).getString()];
        if (m.empty()) {
            for (auto state : erasure::k_erasure_states) {
                m[std::string(erasure::to_text(state))] = 0;
            }
            m["unverified"] = 0; // of done: erased without an App API key to read back with
        }
        m[per_ws.getColumn(1).getString()] = per_ws.getColumn(2).getInt64();
    }
    SQLite::Statement q(db,
                        "SELECT "
                        " (SELECT count(*) FROM requests WHERE state IN ('pending', 'suppressed') "
                        "   AND linked_to IS NOT NULL),"
                        " (SELECT count(*) FROM requests WHERE state IN ('pending', "
                        "   'suppressed', 'dead') AND deadline_at < ?1),"
                        " (SELECT min(received_at) FROM requests WHERE state IN ('pending', "
                        "   'suppressed')),"
                        " (SELECT min(next_attempt_at) FROM erasures WHERE state IN ('pending', "
                        "   'resolved', 'suppressed', 'erased') AND next_attempt_at > ?1),"
                        " (SELECT count(*) FROM erasures WHERE state IN ('pending', "
                        "   'resolved', 'suppressed', 'erased') AND next_attempt_at > ?1)");
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
        sql += *filter.state == "pending" ? " AND r.state IN (:state, 'suppressed')"
                                          : " AND r.state = :state";
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
