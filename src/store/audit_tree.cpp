#include "store/audit_tree.hpp"

#include "store/database.hpp"
#include "util/strings.hpp"

#include <stdexcept>

namespace lethe::store {
namespace {

std::string node_name(crypto::merkle::NodeId id) {
    return "audit tree: subtree (level " + std::to_string(id.level) + ", index " +
           std::to_string(id.index) + ")";
}

} // namespace

std::string audit_leaf_hash(std::string_view entry_hash_hex) {
    auto raw = entry_hash_hex.size() == 64 ? from_hex(entry_hash_hex) : std::nullopt;
    if (!raw) {
        throw std::runtime_error("audit tree: an entry hash is not 64 hex digits");
    }
    return crypto::merkle::leaf_hash(*raw);
}

AuditTreeWriter::AuditTreeWriter(SQLite::Database& db)
    : m_db(db), m_insert(db, "INSERT INTO audit_tree (level, idx, hash) VALUES (?, ?, ?)") {
}

void AuditTreeWriter::append(std::int64_t size_before, std::string_view last_hash_hex,
                             std::string_view entry_hash_hex) {
    if (!m_frontier || m_frontier->size() != size_before) {
        // The right edge: stored subtrees, and for an odd size the last leaf, whose entry hash
        // the appender already holds.
        AuditTreeReader reader(m_db);
        m_frontier = crypto::merkle::Frontier::load(size_before, [&](crypto::merkle::NodeId id) {
            return id.level == 0 ? audit_leaf_hash(last_hash_hex) : reader.node(id);
        });
    }
    m_frontier->push(audit_leaf_hash(entry_hash_hex),
                     [&](crypto::merkle::NodeId id, const std::string& hash) {
                         m_insert.reset();
                         m_insert.bind(1, id.level);
                         m_insert.bind(2, id.index);
                         bind_blob(m_insert, 3, hash);
                         m_insert.exec();
                     });
}

AuditTreeReader::AuditTreeReader(SQLite::Database& db)
    : m_node(db, "SELECT hash FROM audit_tree WHERE level = ? AND idx = ?"),
      m_leaf(db, "SELECT hash FROM audit_log WHERE seq = ?") {
}

std::string AuditTreeReader::node(crypto::merkle::NodeId id) {
    if (id.level == 0) {
        m_leaf.reset();
        m_leaf.bind(1, id.index + 1);
        if (!m_leaf.executeStep()) {
            throw std::runtime_error(node_name(id) + ": no such entry");
        }
        return audit_leaf_hash(m_leaf.getColumn(0).getString());
    }
    m_node.reset();
    m_node.bind(1, id.level);
    m_node.bind(2, id.index);
    if (!m_node.executeStep()) {
        throw std::runtime_error(node_name(id) + " is not stored");
    }
    std::string hash(column_bytes(m_node.getColumn(0)));
    if (hash.size() != 32) {
        throw std::runtime_error(node_name(id) + " is not 32 bytes");
    }
    return hash;
}

crypto::merkle::NodeReader AuditTreeReader::reader() {
    return [this](crypto::merkle::NodeId id) {
        return node(id);
    };
}

std::string AuditTreeReader::root(std::int64_t size) {
    return crypto::merkle::tree_root(size, reader());
}

bool AuditTreeScan::matches_next(crypto::merkle::NodeId id, std::string_view hash) {
    const auto slot = static_cast<std::size_t>(id.level - 1);
    while (m_levels.size() <= slot) {
        auto q = std::make_unique<SQLite::Statement>(
            m_db, "SELECT idx, hash FROM audit_tree WHERE level = ? ORDER BY idx");
        q->bind(1, static_cast<int>(m_levels.size()) + 1);
        m_levels.push_back(std::move(q));
    }
    auto& q = *m_levels[slot];
    return q.executeStep() && q.getColumn(0).getInt64() == id.index &&
           column_bytes(q.getColumn(1)) == hash;
}

std::int64_t backfill_audit_tree(SQLite::Database& db) {
    if (db.execAndGet("SELECT EXISTS (SELECT 1 FROM audit_tree)").getInt() != 0) {
        return 0;
    }
    SQLite::Statement entries(db, "SELECT hash FROM audit_log ORDER BY seq");
    SQLite::Statement insert(db, "INSERT INTO audit_tree (level, idx, hash) VALUES (?, ?, ?)");
    crypto::merkle::Frontier frontier;
    while (entries.executeStep()) {
        frontier.push(audit_leaf_hash(entries.getColumn(0).getString()),
                      [&](crypto::merkle::NodeId id, const std::string& hash) {
                          insert.reset();
                          insert.bind(1, id.level);
                          insert.bind(2, id.index);
                          bind_blob(insert, 3, hash);
                          insert.exec();
                      });
    }
    return frontier.size();
}

} // namespace lethe::store
