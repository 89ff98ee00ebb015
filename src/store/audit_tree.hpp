#pragma once

#include "crypto/merkle.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The RFC 6962 Merkle tree over the audit log (migration 0007, docs/audit-format.md): leaf
// index seq - 1, leaf data the entry hash's 32 raw bytes; the hashes of complete subtrees of
// level >= 1 are kept in audit_tree, level 0 is recomputed from audit_log.hash.
namespace lethe::store {

// Writes the subtrees each new entry completes, inside the appender's transaction. The tree's
// right edge is read once, at the first append.
class AuditTreeWriter {
public:
    explicit AuditTreeWriter(SQLite::Database& db);
    // Adds the leaf of the entry with hash `entry_hash_hex`, the log having `size_before` entries
    // before it (whose last hash is `last_hash_hex`). Throws SQLite::Exception on database
    // failure, std::runtime_error when a stored subtree is missing or malformed.
    void append(std::int64_t size_before, std::string_view last_hash_hex,
                std::string_view entry_hash_hex);
    // Drops the right edge held in memory: the next append reads it from the database (after a
    // rollback, or when another writer appended).
    void forget() { m_frontier.reset(); }
    // Ends the insert statement's use (before the caller's transaction ends).
    void reset() { m_insert.reset(); }

private:
    SQLite::Database& m_db;
    std::optional<crypto::merkle::Frontier> m_frontier;
    SQLite::Statement m_insert;
};

// Reads complete subtrees of the stored tree (in the caller's transaction or snapshot).
class AuditTreeReader {
public:
    explicit AuditTreeReader(SQLite::Database& db);
    // The hash of a complete subtree. Throws std::runtime_error naming it when it is not stored
    // (a tree of fewer entries than asked, or a database without the backfill).
    std::string node(crypto::merkle::NodeId id);
    // `node` as a merkle::NodeReader bound to this reader.
    crypto::merkle::NodeReader reader();
    // The root of the tree of the first `size` entries.
    std::string root(std::int64_t size);

private:
    SQLite::Statement m_node;
    SQLite::Statement m_leaf;
};

// Reads the stored subtrees level by level in index order (one cursor per level), to compare
// each with its recomputation as a verifier completes it.
class AuditTreeScan {
public:
    explicit AuditTreeScan(SQLite::Database& db) : m_db(db) {}
    // True when the next stored subtree of `id.level` is `id` with hash `hash`.
    bool matches_next(crypto::merkle::NodeId id, std::string_view hash);

private:
    SQLite::Database& m_db;
    std::vector<std::unique_ptr<SQLite::Statement>> m_levels; // index: level - 1
};

// The leaf hash of an entry: SHA-256(0x00 || the 32 bytes of its hex `hash`). Throws
// std::runtime_error when `entry_hash_hex` is not 64 hex digits.
std::string audit_leaf_hash(std::string_view entry_hash_hex);

// Computes and stores the subtrees of every entry of the log when audit_tree is empty (the
// upgrade of a log written before schema version 7), in the caller's transaction. Returns how
// many entries it added to the tree (0 when the table already held subtrees).
std::int64_t backfill_audit_tree(SQLite::Database& db);

} // namespace lethe::store
