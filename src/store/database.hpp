#pragma once

#include "store/identifier_cipher.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

namespace lethe::store {

// How to open the database.
enum class OpenMode {
    existing, // fail with a clear message if the file does not exist (every command but init)
    create,   // create it (mode 0600) when missing
};

// Whether `e` says the database is busy or locked by another connection: a transient state, which
// callers wait out instead of treating it as a failure of the database.
bool is_busy(const std::exception& e);

// The bytes of a column holding a sealed value (a blob) or text, and binding such bytes as a blob.
std::string_view column_bytes(const SQLite::Column& column);
// A nullable text column: nullopt for NULL.
std::optional<std::string> column_text(const SQLite::Column& column);
void bind_blob(SQLite::Statement& statement, int index, std::string_view bytes);

// Runs `operation`, trying again while the database is busy: each try already waits SQLite's busy
// timeout (10 s), so `tries` bounds the wait (60: ten minutes); `on_busy` is called before the
// first wait (to say so). For one-off writes at a command's start (a worker's loop has its own,
// stoppable wait).
template <class F>
auto retry_while_busy(F&& operation, const std::function<void()>& on_busy = {}, int tries = 60)
    -> decltype(operation()) {
    for (int i = 1;; ++i) {
        try {
            return operation();
        } catch (const std::exception& e) {
            if (!is_busy(e) || i >= tries) {
                throw;
            }
            if (i == 1 && on_busy) {
                on_busy();
            }
        }
    }
}

// An open lethe database: pragmas set, schema migrated to this binary's version.
class Database {
public:
    // Opens `path`, applies pending migrations in one transaction and checks the schema version.
    // Throws lethe::DatabaseError when the file is missing (OpenMode::existing), is not a lethe
    // database, or was written by a newer lethe.
    Database(const std::filesystem::path& path, OpenMode mode);

    SQLite::Database& db() { return *m_db; }
    const std::filesystem::path& path() const { return m_path; }
    // The schema version recorded in the file (PRAGMA user_version).
    int schema_version();

    // Where the identifier key comes from. Called once, on the first sealed identifier: commands
    // that never touch one (status, list, audit) never need the key.
    using CipherLoader = std::function<IdentifierCipher()>;
    void set_cipher_loader(CipherLoader loader) { m_cipher_loader = std::move(loader); }
    // The identifier cipher; throws what the loader throws (lethe::ConfigError for a missing or
    // unsafe key file), or lethe::DatabaseError when no loader was set.
    const IdentifierCipher& cipher();
    // A request's identifier from its column: sealed (a blob), or plain text written before
    // identifiers were sealed (until seal_identifiers() has run).
    std::string identifier_from(const SQLite::Column& column, std::string_view request_id);
    // The same for a profile (cio_id) kept for erasure `erasure`.
    std::string profile_from(const SQLite::Column& column, std::int64_t erasure);

private:
    void configure();
    // Runs one migration's SQL inside migrate()'s transaction.
    void apply_migration(std::string_view sql);
    void migrate();

    std::filesystem::path m_path;
    std::unique_ptr<SQLite::Database> m_db;
    CipherLoader m_cipher_loader;
    std::mutex m_cipher_mutex;
    std::optional<IdentifierCipher> m_cipher;
};

} // namespace lethe::store
