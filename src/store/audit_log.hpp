#pragma once

#include "store/audit_tree.hpp"
#include "util/clock.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lethe::store {

// The hash of "no previous entry": 64 zeros (docs/audit-format.md).
inline constexpr std::string_view k_genesis_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One entry of the hash-chained audit log, as stored and as exported.
struct AuditEntry {
    std::int64_t seq = 0;
    std::string at;             // ISO 8601 UTC with milliseconds
    std::string event;          // e.g. "request.received"
    std::string request_ref;    // request_id, or empty
    std::string subject_digest; // hex HMAC of the subject, or empty
    std::string detail;         // JSON object text; never personal data
    std::string prev_hash;      // hex SHA-256 of the previous entry (k_genesis_hash for seq 1)
    std::string hash;           // hex SHA-256 of this entry's encoding
};

// An entry viewed without copying (a database row or an export line); the views must outlive
// every use of it.
struct AuditEntryView {
    std::int64_t seq = 0;
    std::string_view at;
    std::string_view event;
    std::string_view request_ref;
    std::string_view subject_digest;
    std::string_view detail;
    std::string_view prev_hash;
    std::string_view hash;
};

// A view of `e` (valid while `e` is neither changed nor destroyed).
AuditEntryView view_of(const AuditEntry& e);

// Appends the exact bytes that are hashed for an entry (docs/audit-format.md, "Entry hash"): a
// domain tag and every field but `hash`, each as a 4-byte big-endian length followed by its
// bytes. The one definition of the encoding; writing, verifying and exporting all use it.
void append_audit_entry_encoding(std::string& out, const AuditEntryView& e);

// append_audit_entry_encoding into a new string.
std::string audit_entry_encoding(const AuditEntry& e);

// Lower-case hex SHA-256 of audit_entry_encoding(e).
std::string audit_entry_hash(const AuditEntry& e);

// The head of the chain: number of entries and the last hash (k_genesis_hash when empty).
struct ChainHead {
    std::int64_t size = 0;
    std::string hash{k_genesis_hash};
};

// Reads the current head.
ChainHead read_chain_head(SQLite::Database& db);

// Appends entries inside the caller's open write transaction, each with the Merkle subtrees it
// completes (audit_tree), so log and tree always commit together. It reads the head once and
// then extends it, so it must not outlive that transaction.
class AuditAppender {
public:
    AuditAppender(SQLite::Database& db, const Clock& clock);
    // Appends one entry stamped with the clock's time; returns its seq. Throws SQLite::Exception
    // when the database refuses it (e.g. the chain trigger).
    std::int64_t append(std::string_view event, std::string_view request_ref,
                        std::string_view subject_digest, std::string_view detail_json);
    // Continues in the caller's next transaction, from the head the database has now (another
    // writer may have appended since, or the last transaction rolled back); keeps the tree's
    // right edge only when that head is the one this appender left.
    void resume(SQLite::Database& db);
    // Ends the statements' use (before the caller's transaction ends).
    void reset();

private:
    const Clock& m_clock;
    ChainHead m_head;
    SQLite::Statement m_insert;
    AuditTreeWriter m_tree;
};

} // namespace lethe::store
