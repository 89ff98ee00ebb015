#pragma once

#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lethe::store {

// The states of a request (DESIGN.md "Data model").
inline constexpr const char* k_states[] = {"pending", "suppressed", "done", "dead", "cancelled"};

// A validated request on its way into the queue.
struct NewRequest {
    std::string request_id;
    std::string identifier;
    std::string id_type; // "id" | "email" | "cio_id"
    std::string subject_digest;
    std::string source; // "file.csv:12", "cli", "http"
    TimeMs received_at = 0;
    bool received_at_given = true; // false: defaulted to now, so not part of idempotency
};

// What inserting a request did.
enum class InsertOutcome {
    created,  // a new request that will be erased
    linked,   // a new request linked to the active request for the same subject
    known,    // the same request_id with the same content: nothing added
    conflict, // the same request_id with other content: refused
};

// Result of WriteBatch::insert.
struct InsertResult {
    InsertOutcome outcome;
    std::string linked_to; // request_id of the active request (linked), else empty
};

// A request as stored.
struct RequestRow {
    std::int64_t id = 0;
    std::string request_id;
    std::optional<std::string> identifier; // gone once done
    std::string id_type;
    std::string subject_digest;
    std::string source;
    TimeMs received_at = 0;
    TimeMs deadline_at = 0;
    std::optional<std::string> extended_reason;
    std::string state;
    std::optional<std::string> linked_to; // request_id
    std::int64_t attempts = 0;
    TimeMs next_attempt_at = 0;
    std::optional<std::string> lease_owner;
    std::optional<TimeMs> lease_expires_at;
    std::optional<std::string> last_error;
    TimeMs created_at = 0;
    TimeMs updated_at = 0;
    std::optional<TimeMs> finished_at;
};

// The deadline for a request received at `received_at`: one calendar month (Art. 12(3) GDPR).
TimeMs initial_deadline(TimeMs received_at);
// The deadline after the one permitted extension: two further months.
TimeMs extended_deadline(TimeMs received_at);

// Many inserts in one IMMEDIATE transaction: all of them land, or none (nothing is written
// until commit(); destruction without commit rolls back).
class WriteBatch {
public:
    WriteBatch(Database& db, const Clock& clock);
    // Inserts one request and its audit entry. Throws SQLite::Exception on database failure.
    InsertResult insert(const NewRequest& r);
    // Makes everything durable.
    void commit();

private:
    Database& m_db;
    const Clock& m_clock;
    SQLite::Transaction m_tx;
    AuditAppender m_audit;
    SQLite::Statement m_find_by_request_id;
    SQLite::Statement m_find_active_subject;
    SQLite::Statement m_insert;
};

// Counts and times shown by `lethe status`.
struct StatusSummary {
    std::map<std::string, std::int64_t> counts; // every state, zero when absent
    std::int64_t linked = 0;                    // active requests waiting on another request
    std::int64_t overdue = 0;                   // not erased and past the deadline
    std::optional<TimeMs> oldest_pending_received_at;
    std::optional<TimeMs> next_retry_at; // earliest scheduled retry in the future
    std::int64_t waiting_retry = 0;      // active requests whose next attempt is in the future
};

// Filter for `lethe list`.
struct ListFilter {
    std::optional<std::string> state;
    bool overdue_only = false;
    std::int64_t limit = 0; // 0: no limit
};

// Administrative operations on the queue; each is one transaction with its audit entries.
class RequestQueue {
public:
    RequestQueue(Database& db, const Clock& clock);

    // The request with this request_id, if any.
    std::optional<RequestRow> find(const std::string& request_id);
    // Cancels a pending request; a linked request waiting on it takes its place. Throws
    // lethe::Error when unknown or not pending.
    void cancel(const std::string& request_id, const std::string& reason, const std::string& actor);
    // Puts dead requests back to pending (attempts reset). Throws lethe::Error naming the first
    // unknown or non-dead request; then nothing changes. Returns how many were revived.
    std::int64_t retry(const std::vector<std::string>& request_ids, const std::string& actor);
    // Revives every dead request; returns how many.
    std::int64_t retry_all_dead(const std::string& actor);
    // Extends the deadline once by two months. Throws lethe::Error when unknown, finished or
    // already extended.
    void extend(const std::string& request_id, const std::string& reason, const std::string& actor);
    // Counts per state, overdue, oldest pending and next retry.
    StatusSummary status();
    // Requests in id order.
    std::vector<RequestRow> list(const ListFilter& filter);

private:
    void revive(SQLite::Database& db, AuditAppender& audit, const RequestRow& row,
                const std::string& actor);
    Database& m_db;
    const Clock& m_clock;
};

// Reads a row from a SELECT of k_request_columns.
RequestRow read_request_row(SQLite::Statement& q);
// The column list matching read_request_row (with the linked request's request_id).
extern const char* const k_request_columns;

} // namespace lethe::store
