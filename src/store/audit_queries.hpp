#pragma once

#include "store/audit_log.hpp"
#include "store/audit_tree.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Read-side queries for the audit features (verify, export, checkpoints, subject look-up,
// reports). The audit log itself is written only through AuditAppender (store/audit_log.hpp).
namespace lethe::store {

// An inclusive range of sequence numbers.
struct SeqRange {
    std::int64_t first = 1;
    std::int64_t last = std::numeric_limits<std::int64_t>::max();
};

// A checkpoint as stored in the checkpoints table.
struct StoredCheckpoint {
    std::int64_t id = 0;
    TimeMs created_at = 0;
    std::int64_t size = 0;
    std::string head_hash;
    std::string note;
};

// A read transaction over the audit log, so the head, ranges and cursors opened while it lives
// all see one snapshot (WAL readers never block the worker). Rolls back (nothing to undo) when
// destroyed. Throws SQLite::Exception on database failure.
class AuditSnapshot {
public:
    explicit AuditSnapshot(Database& db);
    // The number of entries and the last hash in this snapshot.
    ChainHead head() const { return m_head; }
    // The seq range of the entries whose `at` is in [since, until) (ISO 8601 text of the same
    // form as audit_log.at), widened to be contiguous; nullopt when no entry matches.
    std::optional<SeqRange> seq_range_for_time(const std::optional<std::string>& since_at,
                                               const std::optional<std::string>& until_at);
    // The stored hash of entry `seq`, or nullopt when there is no such entry.
    std::optional<std::string> hash_at(std::int64_t seq);
    // The stored checkpoint with the largest size (latest id among equals), if any.
    std::optional<StoredCheckpoint> latest_checkpoint();
    // The stored Merkle tree's root over the first `size` entries (32 raw bytes). Throws
    // std::runtime_error when a subtree it needs is missing.
    std::string tree_root(std::int64_t size) { return m_tree.root(size); }
    // Reads the stored tree's complete subtrees (for proofs), valid while the snapshot lives.
    crypto::merkle::NodeReader tree_reader() { return m_tree.reader(); }

private:
    Database& m_db;
    SQLite::Transaction m_tx;
    ChainHead m_head;
    AuditTreeReader m_tree;
};

// Streams the entries of a seq range in seq order; create it while an AuditSnapshot lives.
class AuditCursor {
public:
    AuditCursor(Database& db, SeqRange range);
    // Steps to the next entry and fills `out` (views valid until the next call). Returns false
    // after the last one. Throws SQLite::Exception on database failure.
    bool next(AuditEntryView& out);

private:
    SQLite::Statement m_query;
};

// Records a signed checkpoint in the checkpoints table (its own small transaction).
// Throws SQLite::Exception on database failure.
void insert_checkpoint(Database& db, TimeMs created_at, std::int64_t size,
                       std::string_view head_hash, std::string_view note);

// Calls `fn` for every audit entry whose subject_digest is `digest`, in seq order.
void for_each_subject_entry(Database& db, std::string_view digest,
                            const std::function<void(const AuditEntry&)>& fn);

// The subject digest of the request `request_id`, or nullopt when there is no such request.
// Throws SQLite::Exception on database failure.
std::optional<std::string> request_subject_digest(Database& db, std::string_view request_id);

// A request of one subject, as `lethe audit subject` shows it (never the raw identifier).
struct SubjectRequest {
    std::string request_id;
    std::string state;
    TimeMs received_at = 0;
    TimeMs deadline_at = 0;
    std::optional<TimeMs> finished_at;
    std::optional<std::string> linked_to; // request_id of the active request it waits on
    // Each workspace's erasure of it: (workspace, state), by workspace name.
    std::vector<std::pair<std::string, std::string>> erasures;
};

// Per workspace, the erasures of the requests received in [since, until) by state.
std::map<std::string, std::map<std::string, std::int64_t>>
report_workspace_counts(Database& db, TimeMs since, TimeMs until);

// The requests whose subject_digest is `digest`, oldest first.
std::vector<SubjectRequest> subject_requests(Database& db, std::string_view digest);

// What `lethe report` needs of one request.
struct ReportRequestRow {
    std::string request_id;
    std::string state;
    TimeMs received_at = 0;
    TimeMs deadline_at = 0;
    std::optional<TimeMs> finished_at;
    bool linked = false; // a duplicate linked to another request of the same subject
};

// Calls `fn` for every request with received_at in [since, until), in received_at order.
void for_each_report_request(Database& db, TimeMs since, TimeMs until,
                             const std::function<void(const ReportRequestRow&)>& fn);

// The earliest received_at of any request, or nullopt when there are none.
std::optional<TimeMs> earliest_received_at(Database& db);

} // namespace lethe::store
