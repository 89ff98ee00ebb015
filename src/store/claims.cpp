#include "store/claims.hpp"

#include "store/audit_log.hpp"
#include "store/requests.hpp"
#include "util/json_writer.hpp"
#include "util/time.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace lethe::store {
namespace {

using erasure::ErasureState;
using erasure::Event;
using erasure::Lease;
using erasure::RequestState;

// Conditions under which this worker may still write a claimed erasure. `attempts` is the
// claim's token: every claim counts one more, so a worker whose lease expired and was taken over
// cannot write even when the new holder has the same owner name (containers often share
// hostname:pid).
constexpr const char* k_held =
    "id = :id AND lease_owner = :owner AND state = :state AND attempts = :attempt";

void bind_held(SQLite::Statement& s, const ClaimedErasure& e, const std::string& owner) {
    s.bind(":id", e.id);
    s.bind(":owner", owner);
    s.bind(":state", std::string(to_text(e.state)));
    s.bind(":attempt", e.attempt);
}

std::string text(ErasureState s) {
    return std::string(erasure::to_text(s));
}

bool is_terminal(ErasureState s) {
    return !erasure::is_active(s);
}

// The UPDATE that applies a decision's state and lease to the erasure.
std::string decision_update(const erasure::Decision& d) {
    std::string set = "state = :next, updated_at = :now";
    if (d.new_step) {
        // A new step (or a re-check) counts its own attempts; this claim is its first when it
        // goes on at once.
        set += d.lease == Lease::keep ? ", step_attempts = 1" : ", step_attempts = 0";
    }
    switch (d.lease) {
    case Lease::keep:
        set += ", last_error = NULL";
        break;
    case Lease::release:
        set += ", lease_owner = NULL, lease_expires_at = NULL, last_error = :error";
        if (is_terminal(d.next)) {
            set += ", finished_at = :now";
        }
        break;
    case Lease::release_uncharged:
        set += ", attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL";
        if (!d.new_step) {
            set += ", step_attempts = max(step_attempts - 1, 0)";
        }
        break;
    }
    if (d.retry) {
        set += ", next_attempt_at = :next_attempt";
    }
    if (d.next == ErasureState::erased) {
        set += ", erased_at = COALESCE(erased_at, :now)";
    }
    if (d.next == ErasureState::pending && d.new_step) {
        set += ", erase_rounds = erase_rounds + 1, erased_at = NULL"; // erased once more
    }
    return "UPDATE erasures SET " + set + " WHERE " + k_held;
}

// Whether `workspace` is one of the comma-separated `scope` (NULL: all).
constexpr const char* k_in_scope =
    "(r.workspaces IS NULL OR instr(',' || r.workspaces || ',', ',' || :ws || ',') > 0)";

} // namespace

void QueueOutlook::add(const QueueOutlook& other) {
    due_now += other.due_now;
    waiting_retry += other.waiting_retry;
    if (other.next_attempt_at && (!next_attempt_at || *other.next_attempt_at < *next_attempt_at)) {
        next_attempt_at = other.next_attempt_at;
    }
}

WorkerQueue::WorkerQueue(Database& db, const Clock& clock, std::string owner)
    : m_db(db), m_clock(clock), m_owner(std::move(owner)) {
}

PlanReport WorkerQueue::plan(const std::vector<std::string>& workspaces) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    AuditAppender audit(m_db.db(), m_clock);
    const TimeMs now = m_clock.now_ms();
    PlanReport report;

    // Active requests without any erasure: from schema 1, or admitted while no workspace was
    // configured. With exactly one workspace, schema 1's progress is that workspace's.
    struct Legacy {
        std::int64_t id;
        std::string request_id, digest, state;
        std::int64_t attempts, next_attempt_at;
    };
    std::vector<Legacy> legacy;
    SQLite::Statement q(m_db.db(), "SELECT id, request_id, subject_digest, state, attempts, "
                                   "next_attempt_at FROM requests r WHERE state IN ('pending', "
                                   "'suppressed') AND linked_to IS NULL AND NOT EXISTS (SELECT 1 "
                                   "FROM erasures e WHERE e.request = r.id) ORDER BY id");
    while (q.executeStep()) {
        legacy.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                          q.getColumn(2).getString(), q.getColumn(3).getString(),
                          q.getColumn(4).getInt64(), q.getColumn(5).getInt64()});
    }
    const bool carry = workspaces.size() == 1;
    SQLite::Statement add(m_db.db(), "INSERT INTO erasures (request, workspace, state, attempts, "
                                     "next_attempt_at, created_at, updated_at) SELECT r.id, :ws, "
                                     ":state, :attempts, :next, :now, :now FROM requests r WHERE "
                                     "r.id = :id AND " +
                                         std::string(k_in_scope));
    SQLite::Statement upd(m_db.db(), "UPDATE requests SET state = 'pending', updated_at = ? WHERE "
                                     "id = ?");
    for (const auto& r : legacy) {
        int added = 0;
        for (const auto& ws : workspaces) {
            add.reset();
            add.bind(":ws", ws);
            add.bind(":state", carry ? r.state : std::string("pending"));
            add.bind(":attempts", carry ? r.attempts : 0);
            add.bind(":next", carry ? std::max(r.next_attempt_at, std::int64_t{0}) : now);
            add.bind(":now", now);
            add.bind(":id", r.id);
            added += add.exec();
        }
        upd.reset();
        upd.bind(1, now);
        upd.bind(2, r.id);
        upd.exec();
        audit.append(
            erasure::to_text(Event::request_planned), r.request_id, r.digest,
            JsonWriter().field("erasures", added).field("carried_over", carry && added == 1).str());
        ++report.upgraded;
    }

    // Active requests that lack an erasure in a workspace they apply to (it was added later).
    SQLite::Statement missing(
        m_db.db(), "SELECT r.id, r.request_id, r.subject_digest FROM requests r WHERE r.state = "
                   "'pending' AND r.linked_to IS NULL AND " +
                       std::string(k_in_scope) +
                       " AND NOT EXISTS (SELECT 1 FROM erasures e WHERE e.request = r.id AND "
                       "e.workspace = :ws) ORDER BY r.id");
    ErasureInserter erasures(m_db.db(), m_clock);
    for (const auto& ws : workspaces) {
        missing.reset();
        missing.bind(":ws", ws);
        std::vector<std::tuple<std::int64_t, std::string, std::string>> rows;
        while (missing.executeStep()) {
            rows.emplace_back(missing.getColumn(0).getInt64(), missing.getColumn(1).getString(),
                              missing.getColumn(2).getString());
        }
        for (const auto& [id, request_id, digest] : rows) {
            erasures.add(id, ws);
            audit.append(erasure::to_text(Event::erasure_planned), request_id, digest,
                         JsonWriter().field("workspace", ws).str());
            ++report.added;
        }
    }
    tx.commit();
    return report;
}

namespace {

// The states a claim may lease, as an SQL list.
std::string state_list(const std::vector<erasure::ErasureState>& states) {
    std::string list;
    for (auto s : states) {
        list += (list.empty() ? "'" : ", '") + std::string(erasure::to_text(s)) + "'";
    }
    return list;
}

} // namespace

std::optional<ClaimedErasure> WorkerQueue::claim(const std::string& workspace, TimeMs lease_ms) {
    auto claimed = claim_batch(workspace, k_active_states, 1, lease_ms);
    if (claimed.empty()) {
        return std::nullopt;
    }
    return std::move(claimed.front());
}

std::vector<ClaimedErasure>
WorkerQueue::claim_batch(const std::string& workspace,
                         const std::vector<erasure::ErasureState>& states, std::int64_t limit,
                         TimeMs lease_ms) {
    if (states.empty() || limit < 1) {
        throw std::invalid_argument("WorkerQueue::claim_batch: no state or no room");
    }
    std::lock_guard lock(m_mutex);
    // IMMEDIATE: take the write lock before reading, so a concurrent writer makes us wait on the
    // busy timeout instead of failing with a stale snapshot.
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const TimeMs now = m_clock.now_ms();
    // One statement: the sub-select and the lease are taken under the same write lock, so two
    // workers can never lease the same erasure. The attempt is counted here, at the start, so an
    // erasure that crashes its worker every time still runs out of attempts.
    SQLite::Statement q(m_db.db(),
                        "UPDATE erasures SET lease_owner = :owner, lease_expires_at = :expires, "
                        "attempts = attempts + 1, step_attempts = step_attempts + 1, "
                        "updated_at = :now "
                        "WHERE id IN (SELECT id FROM erasures "
                        "  WHERE workspace = :ws AND state IN (" +
                            state_list(states) +
                            ") "
                            "    AND next_attempt_at <= :now "
                            "    AND (lease_expires_at IS NULL OR lease_expires_at <= :now) "
                            "  ORDER BY next_attempt_at, id LIMIT :limit) "
                            "RETURNING id, request, state, attempts, step_attempts, erased_at, "
                            "erase_rounds, next_attempt_at");
    q.bind(":owner", m_owner);
    q.bind(":expires", now + lease_ms);
    q.bind(":now", now);
    q.bind(":ws", workspace);
    q.bind(":limit", limit);
    std::vector<std::pair<TimeMs, ClaimedErasure>> claimed;
    while (q.executeStep()) {
        ClaimedErasure e;
        e.id = q.getColumn(0).getInt64();
        e.request_row = q.getColumn(1).getInt64();
        auto state = erasure::parse_erasure_state(q.getColumn(2).getString());
        if (!state) {
            throw std::runtime_error("erasure " + std::to_string(e.id) + ": unknown state");
        }
        e.state = *state;
        e.attempt = q.getColumn(3).getInt64();
        e.step_attempt = q.getColumn(4).getInt64();
        if (!q.getColumn(5).isNull()) {
            e.erased_at = q.getColumn(5).getInt64();
        }
        e.erase_rounds = q.getColumn(6).getInt64();
        e.workspace = workspace;
        claimed.emplace_back(q.getColumn(7).getInt64(), std::move(e));
    }
    // RETURNING gives no order: the oldest due first, as the sub-select chose them.
    std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : a.second.id < b.second.id;
    });
    std::vector<ClaimedErasure> out;
    out.reserve(claimed.size());
    for (auto& [due, e] : claimed) {
        load_claim(e);
        out.push_back(std::move(e));
    }
    tx.commit();
    return out;
}

void WorkerQueue::load_claim(ClaimedErasure& e) {
    SQLite::Statement r(m_db.db(), "SELECT request_id, identifier, id_type, subject_digest FROM "
                                   "requests WHERE id = ?");
    r.bind(1, e.request_row);
    if (!r.executeStep() || r.getColumn(1).isNull()) {
        // The schema keeps an identifier while any erasure is active; a database edited by hand
        // could break that. Nothing to erase with: stop rather than call with an empty path.
        throw std::runtime_error("erasure " + std::to_string(e.id) +
                                 ": its request has no identifier");
    }
    e.request_id = r.getColumn(0).getString();
    e.identifier = m_db.identifier_from(r.getColumn(1), e.request_id);
    e.id_type = r.getColumn(2).getString();
    e.subject_digest = r.getColumn(3).getString();
    SQLite::Statement p(m_db.db(), "SELECT cio_id FROM erasure_profiles WHERE erasure = ?");
    p.bind(1, e.id);
    while (p.executeStep()) {
        e.profiles.push_back(m_db.profile_from(p.getColumn(0), e.id));
    }
    std::sort(e.profiles.begin(), e.profiles.end());
}

bool WorkerQueue::renew(const ClaimedErasure& e, TimeMs lease_ms) {
    std::lock_guard lock(m_mutex);
    // Not k_held: the state moves on (pending → suppressed) while the same claim holds the lease.
    SQLite::Statement q(m_db.db(), "UPDATE erasures SET lease_expires_at = ? WHERE id = ? AND "
                                   "lease_owner = ? AND attempts = ? AND "
                                   "state IN ('pending', 'resolved', 'suppressed', 'erased')");
    q.bind(1, m_clock.now_ms() + lease_ms);
    q.bind(2, e.id);
    q.bind(3, m_owner);
    q.bind(4, e.attempt);
    return q.exec() == 1;
}

std::string WorkerQueue::call_detail(const ClaimedErasure& e, const CallRecord& call,
                                     std::optional<TimeMs> next_attempt_at) const {
    JsonWriter j;
    j.field("attempt", e.attempt)
        .field("workspace", e.workspace)
        .field("status", static_cast<std::int64_t>(call.http_status))
        .field("outcome", erasure::to_text(call.outcome))
        .field("latency_ms", call.latency_ms);
    if (!call.target.empty()) {
        j.field("target", call.target);
    }
    if (call.operations > 1) {
        j.field("operations", call.operations);
    }
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

std::string WorkerQueue::event_detail(const ClaimedErasure& e, Event event,
                                      const erasure::Decision& decision,
                                      const StepFacts& facts) const {
    JsonWriter detail;
    detail.field("workspace", e.workspace);
    switch (event) {
    case Event::erasure_resolved:
        detail.field("profiles", static_cast<std::int64_t>(facts.found.size()));
        if (facts.found.empty()) {
            // Verified absent before anything was erased; the identifier is still suppressed.
            detail.field("not_present", true);
        }
        break;
    case Event::erasure_erased:
        detail.field("profiles", static_cast<std::int64_t>(e.profiles.size()));
        break;
    case Event::erasure_still_present:
        detail.field("present", facts.present).field("erase_rounds", e.erase_rounds);
        break;
    case Event::erasure_done:
        // The evidence says plainly whether it was read back (DESIGN.md invariant 8).
        detail.field("verified", facts.verified);
        if (facts.verified) {
            detail.field("profiles", static_cast<std::int64_t>(e.profiles.size()));
        }
        break;
    case Event::erasure_dead:
        detail.field("reason", decision.reason);
        break;
    default:
        break;
    }
    return detail.str();
}

bool WorkerQueue::apply(ClaimedErasure& e, const erasure::Decision& decision,
                        const StepFacts& facts, std::optional<TimeMs> next_attempt_at) {
    if (decision.retry && !next_attempt_at) {
        throw std::logic_error("WorkerQueue::apply: a retry needs its time");
    }
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upd(m_db.db(), decision_update(decision));
    upd.bind(":next", text(decision.next));
    upd.bind(":now", m_clock.now_ms());
    if (decision.lease == Lease::release) {
        if (decision.next == ErasureState::dead) {
            upd.bind(":error", decision.reason);
        } else if (decision.retry && !facts.calls.empty() && !facts.calls.back().error.empty()) {
            const CallRecord& last = facts.calls.back();
            upd.bind(":error", std::string(erasure::to_text(last.step)) + ": " + last.error);
        } else if (decision.retry && facts.present > 0) {
            upd.bind(":error",
                     "verify: profile still present (" + std::to_string(facts.present) + ")");
        } else {
            upd.bind(":error");
        }
    }
    if (decision.retry) {
        upd.bind(":next_attempt", *next_attempt_at);
    }
    bind_held(upd, e, m_owner);
    if (upd.exec() != 1) {
        return false;
    }
    const TimeMs now = m_clock.now_ms();
    if (decision.next == ErasureState::erased && !e.erased_at) {
        e.erased_at = now;
    }
    if (decision.next == ErasureState::pending && decision.new_step) {
        ++e.erase_rounds;
        e.erased_at.reset();
    }
    // The profiles found are kept with the erasure until it finishes.
    SQLite::Statement keep(m_db.db(), "INSERT OR IGNORE INTO erasure_profiles (erasure, cio_id) "
                                      "VALUES (?, ?)");
    for (const auto& cio_id : facts.found) {
        keep.reset();
        keep.bind(1, e.id);
        bind_blob(keep, 2, m_db.cipher().seal_profile(cio_id, e.id));
        keep.exec();
        if (std::find(e.profiles.begin(), e.profiles.end(), cio_id) == e.profiles.end()) {
            e.profiles.push_back(cio_id);
        }
    }
    if (!facts.found.empty() || decision.next == ErasureState::resolved) {
        SQLite::Statement count(m_db.db(), "UPDATE erasures SET profiles = ? WHERE id = ?");
        count.bind(1, static_cast<std::int64_t>(e.profiles.size()));
        count.bind(2, e.id);
        count.exec();
    }
    // A verification that got its answer (gone, or still present) is a check; a failed read
    // is not.
    if (decision.new_step && !facts.calls.empty() &&
        facts.calls.front().step == erasure::Step::verify) {
        SQLite::Statement checked(m_db.db(),
                                  "UPDATE erasures SET checks = checks + 1 WHERE id = ?");
        checked.bind(1, e.id);
        checked.exec();
    }
    AuditAppender audit(m_db.db(), m_clock);
    for (Event event : decision.events) {
        if (event == erasure::call_event(erasure::Step::resolve) ||
            event == erasure::call_event(erasure::Step::suppress) ||
            event == erasure::call_event(erasure::Step::destroy) ||
            event == erasure::call_event(erasure::Step::verify)) {
            for (const auto& call : facts.calls) {
                audit.append(erasure::to_text(erasure::call_event(call.step)), e.request_id,
                             e.subject_digest,
                             call_detail(e, call, decision.retry ? next_attempt_at : std::nullopt));
            }
            continue;
        }
        audit.append(erasure::to_text(event), e.request_id, e.subject_digest,
                     event_detail(e, event, decision, facts));
    }
    if (is_terminal(decision.next)) {
        if (decision.next == ErasureState::done) {
            SQLite::Statement v(m_db.db(), "UPDATE erasures SET verified = ? WHERE id = ?");
            v.bind(1, facts.verified ? 1 : 0);
            v.bind(2, e.id);
            v.exec();
        }
        // Identifiers of the person that are no longer needed (invariant 10).
        SQLite::Statement forget(m_db.db(), "DELETE FROM erasure_profiles WHERE erasure = ?");
        forget.bind(1, e.id);
        forget.exec();
        update_request(e, decision, audit);
    }
    tx.commit();
    e.state = decision.next;
    if (decision.new_step) {
        e.step_attempt = decision.lease == Lease::keep ? 1 : 0;
    }
    return true;
}

void WorkerQueue::update_request(const ClaimedErasure& e, const erasure::Decision& decision,
                                 AuditAppender& audit) {
    std::vector<ErasureState> states;
    SQLite::Statement q(m_db.db(), "SELECT state FROM erasures WHERE request = ?");
    q.bind(1, e.request_row);
    while (q.executeStep()) {
        if (auto s = erasure::parse_erasure_state(q.getColumn(0).getString())) {
            states.push_back(*s);
        }
    }
    SQLite::Statement cur(m_db.db(), "SELECT state FROM requests WHERE id = ?");
    cur.bind(1, e.request_row);
    cur.executeStep();
    const RequestState now_state = erasure::aggregate(states);
    if (erasure::parse_request_state(cur.getColumn(0).getString()) == now_state) {
        return;
    }
    const TimeMs now = m_clock.now_ms();
    if (now_state == RequestState::done) {
        // The raw identifier is no longer needed once the person is erased everywhere: scrub it
        // in the same transaction that records the erasure.
        SQLite::Statement upd(m_db.db(), "UPDATE requests SET state = 'done', identifier = NULL, "
                                         "last_error = NULL, updated_at = ?1, finished_at = ?1 "
                                         "WHERE id = ?2");
        upd.bind(1, now);
        upd.bind(2, e.request_row);
        upd.exec();
        int linked = finish_linked(e.request_row, RequestState::done, e.request_id, "", audit);
        audit.append(erasure::to_text(Event::request_done), e.request_id, e.subject_digest,
                     JsonWriter()
                         .field("workspaces", static_cast<std::int64_t>(states.size()))
                         .field("linked_requests", linked)
                         .str());
    } else if (now_state == RequestState::dead) {
        const std::string reason = "workspace " + e.workspace + ": " + decision.reason;
        SQLite::Statement upd(m_db.db(), "UPDATE requests SET state = 'dead', last_error = ?3, "
                                         "updated_at = ?1, finished_at = ?1 WHERE id = ?2");
        upd.bind(1, now);
        upd.bind(2, e.request_row);
        upd.bind(3, reason);
        upd.exec();
        int linked = finish_linked(e.request_row, RequestState::dead, e.request_id, reason, audit);
        audit.append(erasure::to_text(Event::request_dead), e.request_id, e.subject_digest,
                     JsonWriter()
                         .field("reason", reason)
                         .field("workspace", e.workspace)
                         .field("linked_requests", linked)
                         .str());
    }
}

int WorkerQueue::finish_linked(std::int64_t primary_id, RequestState state, const std::string& via,
                               const std::string& reason, AuditAppender& audit) {
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
    const bool done = state == RequestState::done;
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
        audit.append(erasure::to_text(done ? Event::request_done : Event::request_dead), request_id,
                     digest, detail.str());
    }
    return static_cast<int>(rows.size());
}

bool WorkerQueue::release(const ClaimedErasure& e) {
    std::lock_guard lock(m_mutex);
    SQLite::Statement upd(m_db.db(), std::string("UPDATE erasures SET attempts = attempts - 1, "
                                                 "step_attempts = max(step_attempts - 1, 0), "
                                                 "lease_owner = NULL, lease_expires_at = NULL, "
                                                 "updated_at = :now WHERE ") +
                                         k_held);
    upd.bind(":now", m_clock.now_ms());
    bind_held(upd, e, m_owner);
    return upd.exec() == 1;
}

void WorkerQueue::audit_event(const std::string& event, const std::string& detail_json) {
    std::lock_guard lock(m_mutex);
    SQLite::Transaction tx(m_db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    AuditAppender audit(m_db.db(), m_clock);
    audit.append(event, "", "", detail_json);
    tx.commit();
}

QueueOutlook WorkerQueue::outlook(const std::string& workspace, TimeMs horizon_ms) {
    std::lock_guard lock(m_mutex);
    const TimeMs now = m_clock.now_ms();
    SQLite::Statement q(
        m_db.db(),
        "SELECT "
        " (SELECT count(*) FROM erasures WHERE workspace = ?3 AND state IN "
        "   ('pending', 'resolved', 'suppressed', 'erased') AND next_attempt_at <= ?1 "
        "   AND (lease_expires_at IS NULL OR lease_expires_at <= ?2)),"
        " (SELECT count(*) FROM erasures WHERE workspace = ?3 AND state IN "
        "   ('pending', 'resolved', 'suppressed', 'erased') AND next_attempt_at > ?1),"
        " (SELECT min(next_attempt_at) FROM erasures WHERE workspace = ?3 AND "
        "   state IN ('pending', 'resolved', 'suppressed', 'erased') AND next_attempt_at > ?1)");
    q.bind(1, now + horizon_ms);
    q.bind(2, now);
    q.bind(3, workspace);
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
