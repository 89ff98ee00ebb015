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

// A validated request on its way into the queue.
struct NewRequest {
    std::string request_id;
    std::string identifier;
    std::string id_type; // "id" | "email" | "cio_id"
    std::string subject_digest;
    std::string source; // "file.csv:12", "cli", "http"
    // The intake sender that submitted it (docs/intake.md, "Senders"); empty when it did not come
    // over HTTP. A request_id another sender submitted is a conflict, whatever its content.
    std::string sender;
    bool callback = false; // its sender has a callback_url: reaching done/dead/cancelled queues one
    TimeMs received_at = 0;
    bool received_at_given = true; // false: defaulted to now, so not part of idempotency
    // The workspaces it applies to, as named by the sender (validated, sorted, unique); nullopt:
    // every configured workspace.
    std::optional<std::vector<std::string>> workspaces;
    // What lethe wrote before subject digest v2, when it differs (else empty): the digest of the
    // identifier as given, and the request_id derived from it. A row admitted then and sent
    // again is still the same request, not a conflict.
    std::string legacy_digest;
    std::string legacy_request_id;
    // Set for a row staged by an import (import_staging.hpp): `identifier` already sealed under
    // the request_id, stored as it is.
    bool identifier_sealed = false;
};

// What a stored (or staged) request is compared on when its request_id is sent again.
struct RequestKey {
    std::string subject_digest;
    std::string id_type;
    TimeMs received_at = 0;
    std::optional<std::string> scope; // scope_text of its workspaces; nullopt: all
};

// True when `r` is the request stored as `stored`, sent again: the same subject (or the digest
// it had before subject digest v2), type, scope, and received_at unless `r` did not give one.
bool same_request(const RequestKey& stored, const NewRequest& r);

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
    std::string linked_to;     // request_id of the active request (linked), else empty
    std::string known_as;      // known: the stored request_id (the legacy one, if that matched)
    std::string linked_sender; // linked: the active request's sender (empty: not from HTTP)
    bool other_sender = false; // conflict: the request_id is another sender's (or not from HTTP)
};

// One erasure of a request: the request in one workspace.
struct ErasureSummary {
    std::string workspace;
    std::string state; // erasure::ErasureState's text
    std::int64_t attempts = 0;
    std::optional<bool> verified; // once done: read back as gone (false: no App API key)
};

// A request's identifier as stored: sealed (identifier_cipher.hpp), or plain text written before
// identifiers were sealed. Database::identifier_from / open_identifier give the plain text.
struct StoredIdentifier {
    std::string bytes;
    bool sealed = true;
};

// A request as stored.
struct RequestRow {
    std::int64_t id = 0;
    std::string request_id;
    std::optional<StoredIdentifier> identifier; // gone once done
    std::string id_type;
    std::string subject_digest;
    std::string source;
    TimeMs received_at = 0;
    TimeMs deadline_at = 0;
    std::optional<std::string> extended_reason;
    std::string state;                     // erasure::RequestState's text
    std::optional<std::string> linked_to;  // request_id
    std::optional<std::string> workspaces; // as named at admission ("a,b"); nullopt: all
    std::int64_t attempts = 0;             // over all its erasures
    // Why it is dead, or the latest failure of one of its erasures ("workspace W: ...").
    std::optional<std::string> last_error;
    std::vector<ErasureSummary> erasures; // by workspace name
    TimeMs created_at = 0;
    TimeMs updated_at = 0;
    std::optional<TimeMs> finished_at;
};

// The deadline for a request received at `received_at`: one calendar month (Art. 12(3) GDPR).
TimeMs initial_deadline(TimeMs received_at);
// The deadline after the one permitted extension: two further months.
TimeMs extended_deadline(TimeMs received_at);

// Adds erasures (a request in one workspace), each due at once, inside the caller's transaction;
// one prepared statement for many. The one place that creates an erasure for a new or widened
// request.
class ErasureInserter {
public:
    ErasureInserter(SQLite::Database& db, const Clock& clock);
    // True when added; false when the request already has an erasure in `workspace`.
    bool add(std::int64_t request_row, const std::string& workspace);
    // Ends the statement's use (before the caller's transaction ends).
    void reset() { m_insert.reset(); }

private:
    const Clock& m_clock;
    SQLite::Statement m_insert;
};

// Many inserts in one IMMEDIATE transaction: all of them land, or none (nothing is written
// until commit(); destruction without commit rolls back). Each new request gets an erasure in
// every workspace it applies to, of `configured_workspaces`.
class WriteBatch {
public:
    WriteBatch(Database& db, const Clock& clock, std::vector<std::string> configured_workspaces);
    // Inserts one request and its audit entry. Throws SQLite::Exception on database failure.
    InsertResult insert(const NewRequest& r);
    // Makes everything durable.
    void commit();
    // After commit(): begins another transaction with the same prepared statements (preparing
    // them again cost the HTTP intake a tenth of its CPU: bench/RESULTS.md).
    void begin_next();

private:
    Database& m_db;
    const Clock& m_clock;
    std::optional<SQLite::Transaction> m_tx;
    AuditAppender m_audit;
    // Refuses a request whose request_id an import has staged with other content (when the
    // import lands, that row would conflict with this one: import_staging.hpp), or at all when
    // it comes from an intake sender (an import's request is not the sender's).
    bool conflicts_with_staged(const NewRequest& r, const std::optional<std::string>& scope);

    SQLite::Statement m_find_by_request_id;
    SQLite::Statement m_find_staged;
    SQLite::Statement m_find_active_subject;
    SQLite::Statement m_insert;
    ErasureInserter m_erasures;
    std::vector<std::string> m_workspaces;
};

// Adds to the active request `request_row` an erasure in each of `workspaces` it lacks, and
// widens its recorded scope to cover them (nullopt: all); returns how many were added. For a
// request linked to it with a wider scope: the person is erased everywhere either asked.
int widen_scope(SQLite::Database& db, AuditAppender& audit, const Clock& clock,
                std::int64_t request_row, const std::optional<std::vector<std::string>>& scope,
                const std::vector<std::string>& workspaces);

// The comma-separated text form of a workspace list ("a,b"), as stored.
std::string scope_text(const std::vector<std::string>& workspaces);
// The workspace list of a stored scope text (scope_text's inverse).
std::vector<std::string> scope_list(const std::string& text);

// Counts and times shown by `lethe status`.
struct StatusSummary {
    std::map<std::string, std::int64_t> counts; // every request state, zero when absent
    std::int64_t linked = 0;                    // active requests waiting on another request
    std::int64_t overdue = 0;                   // not erased and past the deadline
    std::optional<TimeMs> oldest_pending_received_at;
    std::optional<TimeMs> next_retry_at; // earliest scheduled retry in the future
    std::int64_t waiting_retry = 0;      // active erasures whose next attempt is in the future
    // Per workspace: erasures in each state (every state present, zero when absent), and
    // "unverified": those of done that could not be read back (no App API key).
    std::map<std::string, std::map<std::string, std::int64_t>> by_workspace;
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

// The row's identifier in plain text (needs the identifier key when it is sealed); nullopt once
// the request is done.
std::optional<std::string> open_identifier(Database& db, const RequestRow& row);
// The column list matching read_request_row (with the linked request's request_id).
extern const char* const k_request_columns;

} // namespace lethe::store
