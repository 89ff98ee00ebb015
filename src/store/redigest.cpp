#include "store/redigest.hpp"

#include "store/audit_log.hpp"
#include "store/requests.hpp"
#include "util/json_writer.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace lethe::store {
namespace {

struct Held {
    std::int64_t id = 0;
    std::string request_id, identifier, id_type, digest;
};

struct Primary {
    std::int64_t id = 0;
    std::string request_id;
};

std::optional<Primary> active_primary(SQLite::Database& db, const std::string& digest) {
    SQLite::Statement q(db, "SELECT id, request_id FROM requests WHERE subject_digest = ? AND "
                            "state IN ('pending', 'suppressed') AND linked_to IS NULL");
    q.bind(1, digest);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return Primary{q.getColumn(0).getInt64(), q.getColumn(1).getString()};
}

bool is_active_primary(SQLite::Database& db, std::int64_t id) {
    SQLite::Statement q(db, "SELECT 1 FROM requests WHERE id = ? AND state IN ('pending', "
                            "'suppressed') AND linked_to IS NULL");
    q.bind(1, id);
    return q.executeStep();
}

std::vector<std::string> split_scope(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) {
            out.push_back(item);
        }
    }
    return out;
}

// Links the active primary `later` to `earlier`, as WriteBatch::insert links a new duplicate:
// the requests waiting on `later` wait on `earlier`, `later`'s unfinished erasures are withdrawn
// and `earlier` is widened to erase the person everywhere `later` would have. Returns how many
// erasures were withdrawn.
std::int64_t link_to(SQLite::Database& db, AuditAppender& audit, const Clock& clock,
                     std::int64_t later, const Primary& earlier) {
    const TimeMs now = clock.now_ms();
    SQLite::Statement scope_q(db, "SELECT workspaces FROM requests WHERE id = ?");
    scope_q.bind(1, later);
    scope_q.executeStep();
    std::optional<std::vector<std::string>> scope;
    if (!scope_q.getColumn(0).isNull()) {
        scope = split_scope(scope_q.getColumn(0).getString());
    }
    // Every workspace it has an erasure in, finished or not: the earlier request then also erases
    // there (again, if need be: suppress and destroy are idempotent).
    std::set<std::string> workspaces;
    SQLite::Statement ws_q(db, "SELECT workspace FROM erasures WHERE request = ?");
    ws_q.bind(1, later);
    while (ws_q.executeStep()) {
        workspaces.insert(ws_q.getColumn(0).getString());
    }
    if (scope) {
        workspaces.insert(scope->begin(), scope->end());
    }
    // Its erasures must not be claimed any more: a linked request has no work of its own. A
    // worker holding one's lease fails its next write (the state it holds is gone) and lets go.
    SQLite::Statement withdraw(db, "UPDATE erasures SET state = 'cancelled', lease_owner = NULL, "
                                   "lease_expires_at = NULL, updated_at = ?1, finished_at = ?1 "
                                   "WHERE request = ?2 AND state IN ('pending', 'suppressed')");
    withdraw.bind(1, now);
    withdraw.bind(2, later);
    const std::int64_t withdrawn = withdraw.exec();
    SQLite::Statement link(db, "UPDATE requests SET linked_to = ?1, lease_owner = NULL, "
                               "lease_expires_at = NULL, updated_at = ?2 WHERE id = ?3 OR "
                               "linked_to = ?3");
    link.bind(1, earlier.id);
    link.bind(2, now);
    link.bind(3, later);
    link.exec();
    widen_scope(db, audit, clock, earlier.id, scope, {workspaces.begin(), workspaces.end()});
    return withdrawn;
}

} // namespace

bool redigest_needed(Database& db) {
    SQLite::Statement q(db.db(), "SELECT 1 FROM upgrade_steps WHERE name = ?");
    q.bind(1, k_subject_digest_v2_step);
    return !q.executeStep();
}

RedigestReport redigest_pending(Database& db, const Clock& clock, const SubjectDigestFn& digest) {
    auto& sql = db.db();
    SQLite::Transaction tx(sql, SQLite::TransactionBehavior::IMMEDIATE);
    RedigestReport report;
    // Checked under the write lock: two commands starting at once re-digest only once.
    if (!redigest_needed(db)) {
        return report;
    }
    report.ran = true;
    AuditAppender audit(sql, clock);
    std::vector<Held> held;
    {
        SQLite::Statement q(sql, "SELECT id, request_id, identifier, id_type, subject_digest FROM "
                                 "requests WHERE identifier IS NOT NULL ORDER BY id");
        while (q.executeStep()) {
            const std::string request_id = q.getColumn(1).getString();
            held.push_back({q.getColumn(0).getInt64(), request_id,
                            db.identifier_from(q.getColumn(2), request_id),
                            q.getColumn(3).getString(), q.getColumn(4).getString()});
        }
    }
    SQLite::Statement set_digest(sql, "UPDATE requests SET subject_digest = ?, updated_at = ? "
                                      "WHERE id = ?");
    for (const auto& r : held) {
        const std::string fresh = digest(r.identifier, r.id_type);
        if (fresh == r.digest) {
            continue;
        }
        JsonWriter detail;
        detail.field("previous_digest", r.digest);
        // Another active primary for the same person: the later one waits on the earlier, so
        // that requests_active_subject (one active primary per digest) still holds.
        std::optional<Primary> other;
        if (is_active_primary(sql, r.id)) {
            other = active_primary(sql, fresh);
        }
        if (other && other->id < r.id) {
            const auto withdrawn = link_to(sql, audit, clock, r.id, *other);
            detail.field("linked_to", other->request_id).field("erasures_withdrawn", withdrawn);
            report.withdrawn += withdrawn;
            ++report.linked;
        } else if (other) {
            const auto withdrawn = link_to(sql, audit, clock, other->id, {r.id, r.request_id});
            audit.append("request.relinked", other->request_id, fresh,
                         JsonWriter()
                             .field("linked_to", r.request_id)
                             .field("role", "linked")
                             .field("reason", "redigested")
                             .field("erasures_withdrawn", withdrawn)
                             .str());
            report.withdrawn += withdrawn;
            ++report.linked;
        }
        set_digest.reset();
        set_digest.bind(1, fresh);
        set_digest.bind(2, clock.now_ms());
        set_digest.bind(3, r.id);
        set_digest.exec();
        audit.append("request.redigested", r.request_id, fresh, detail.str());
        ++report.redigested;
    }
    SQLite::Statement mark(sql, "INSERT INTO upgrade_steps (name, done_at) VALUES (?, ?)");
    mark.bind(1, k_subject_digest_v2_step);
    mark.bind(2, clock.now_ms());
    mark.exec();
    tx.commit();
    return report;
}

} // namespace lethe::store
