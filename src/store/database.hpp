#pragma once

#include <SQLiteCpp/Database.h>
#include <filesystem>
#include <memory>
#include <string_view>

namespace lethe::store {

// How to open the database.
enum class OpenMode {
    existing, // fail with a clear message if the file does not exist (every command but init)
    create,   // create it (mode 0600) when missing
};

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

private:
    void configure();
    // Runs one migration's SQL inside migrate()'s transaction.
    void apply_migration(std::string_view sql);
    void migrate();

    std::filesystem::path m_path;
    std::unique_ptr<SQLite::Database> m_db;
};

} // namespace lethe::store
