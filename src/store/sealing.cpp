#include "store/sealing.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <vector>

namespace lethe::store {
namespace {

// Plain text, or sealed under another key: the key id follows the version byte.
std::string stale(const std::string& column) {
    return "(typeof(" + column + ") = 'text' OR substr(" + column + ", 2, 4) <> ?)";
}

std::int64_t reseal_requests(Database& db, const IdentifierCipher& cipher) {
    struct Row {
        std::int64_t id;
        std::string request_id, identifier;
    };
    std::vector<Row> rows;
    SQLite::Statement q(db.db(), "SELECT id, request_id, identifier FROM requests WHERE "
                                 "identifier IS NOT NULL AND " +
                                     stale("identifier"));
    bind_blob(q, 1, cipher.current_key_id());
    while (q.executeStep()) {
        const std::string request_id = q.getColumn(1).getString();
        rows.push_back({q.getColumn(0).getInt64(), request_id,
                        db.identifier_from(q.getColumn(2), request_id)});
    }
    SQLite::Statement set(db.db(), "UPDATE requests SET identifier = ? WHERE id = ?");
    for (const auto& r : rows) {
        set.reset();
        bind_blob(set, 1, cipher.seal_identifier(r.identifier, r.request_id));
        set.bind(2, r.id);
        set.exec();
    }
    return static_cast<std::int64_t>(rows.size());
}

// Rows an import has staged (import_staging.hpp): sealed like requests'.
std::int64_t reseal_staged(Database& db, const IdentifierCipher& cipher) {
    struct Row {
        std::int64_t batch, seq;
        std::string request_id, identifier;
    };
    std::vector<Row> rows;
    SQLite::Statement q(db.db(), "SELECT batch, seq, request_id, identifier FROM import_staging "
                                 "WHERE " +
                                     stale("identifier"));
    bind_blob(q, 1, cipher.current_key_id());
    while (q.executeStep()) {
        const std::string request_id = q.getColumn(2).getString();
        rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), request_id,
                        db.identifier_from(q.getColumn(3), request_id)});
    }
    SQLite::Statement set(db.db(),
                          "UPDATE import_staging SET identifier = ? WHERE batch = ? AND seq = ?");
    for (const auto& r : rows) {
        set.reset();
        bind_blob(set, 1, cipher.seal_identifier(r.identifier, r.request_id));
        set.bind(2, r.batch);
        set.bind(3, r.seq);
        set.exec();
    }
    return static_cast<std::int64_t>(rows.size());
}

std::int64_t reseal_profiles(Database& db, const IdentifierCipher& cipher) {
    struct Row {
        std::int64_t erasure;
        std::string stored, cio_id;
        bool stored_sealed;
    };
    std::vector<Row> rows;
    SQLite::Statement q(db.db(),
                        "SELECT erasure, cio_id FROM erasure_profiles WHERE " + stale("cio_id"));
    bind_blob(q, 1, cipher.current_key_id());
    while (q.executeStep()) {
        const SQLite::Column c = q.getColumn(1);
        const std::int64_t erasure = q.getColumn(0).getInt64();
        rows.push_back(
            {erasure, std::string(column_bytes(c)), db.profile_from(c, erasure), c.isBlob()});
    }
    // Keyed by (erasure, cio_id): the old value goes, the sealed one comes.
    SQLite::Statement drop(db.db(),
                           "DELETE FROM erasure_profiles WHERE erasure = ? AND cio_id = ?");
    SQLite::Statement keep(
        db.db(), "INSERT OR IGNORE INTO erasure_profiles (erasure, cio_id) VALUES (?, ?)");
    for (const auto& r : rows) {
        drop.reset();
        drop.bind(1, r.erasure);
        // The stored value with its type: SQLite never finds a blob equal to a text.
        r.stored_sealed ? bind_blob(drop, 2, r.stored) : drop.bind(2, r.stored);
        drop.exec();
        keep.reset();
        keep.bind(1, r.erasure);
        bind_blob(keep, 2, cipher.seal_profile(r.cio_id, r.erasure));
        keep.exec();
    }
    return static_cast<std::int64_t>(rows.size());
}

bool anything_stale(Database& db, const IdentifierCipher& cipher) {
    SQLite::Statement q(
        db.db(), "SELECT EXISTS (SELECT 1 FROM requests WHERE identifier IS NOT "
                 "NULL AND " +
                     stale("identifier") + ") OR EXISTS (SELECT 1 FROM erasure_profiles WHERE " +
                     stale("cio_id") + ") OR EXISTS (SELECT 1 FROM import_staging WHERE " +
                     stale("identifier") + ")");
    bind_blob(q, 1, cipher.current_key_id());
    bind_blob(q, 2, cipher.current_key_id());
    bind_blob(q, 3, cipher.current_key_id());
    return q.executeStep() && q.getColumn(0).getInt() != 0;
}

} // namespace

SealReport seal_identifiers(Database& db) {
    const IdentifierCipher& cipher = db.cipher();
    if (!anything_stale(db, cipher)) {
        return {}; // the usual case: no write lock taken
    }
    SQLite::Transaction tx(db.db(), SQLite::TransactionBehavior::IMMEDIATE);
    SealReport report;
    report.identifiers = reseal_requests(db, cipher) + reseal_staged(db, cipher);
    report.profiles = reseal_profiles(db, cipher);
    tx.commit();
    return report;
}

bool holds_sealed_identifiers(Database& db) {
    return db.db()
               .execAndGet("SELECT EXISTS (SELECT 1 FROM requests WHERE typeof(identifier) = "
                           "'blob') OR EXISTS (SELECT 1 FROM erasure_profiles WHERE "
                           "typeof(cio_id) = 'blob') OR EXISTS (SELECT 1 FROM import_staging)")
               .getInt() != 0;
}

bool holds_plain_identifiers(Database& db) {
    return db.db()
               .execAndGet("SELECT EXISTS (SELECT 1 FROM requests WHERE typeof(identifier) = "
                           "'text') OR EXISTS (SELECT 1 FROM import_staging WHERE "
                           "typeof(identifier) = 'text') OR EXISTS (SELECT 1 FROM "
                           "erasure_profiles WHERE typeof(cio_id) = 'text')")
               .getInt() != 0;
}

} // namespace lethe::store
