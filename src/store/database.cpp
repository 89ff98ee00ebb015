#include "store/database.hpp"

#include "store/audit_tree.hpp"
#include "store/migrations.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <SQLiteCpp/Transaction.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lethe::store {
namespace {

constexpr int k_busy_timeout_ms = 10'000;
constexpr int k_busy_poll_us = 1'000;

// Waits for a busy database by polling every millisecond, up to k_busy_timeout_ms. SQLite's own
// busy timeout backs off to 100 ms between polls, so a waiter would miss the short gaps an import
// leaves between its chunk transactions (store/import_staging.hpp) and wait for the whole import.
int poll_while_busy(void* /*unused*/, int polls) {
    if (static_cast<long>(polls) * k_busy_poll_us >= k_busy_timeout_ms * 1000L) {
        return 0;
    }
    ::usleep(k_busy_poll_us);
    return 1;
}

// The schema version that adds the Merkle tree; its subtrees are computed in C++ (SQL has no
// SHA-256) in the migration's transaction, so an upgraded log is never without its tree.
constexpr int k_merkle_tree_version = 7;

// Creates the file with mode 0600 before SQLite does, so it never exists with looser bits; never
// through a symlink (O_EXCL | O_NOFOLLOW), so a link planted at the path cannot aim the new
// database elsewhere.
void create_private_db_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw DatabaseError(path.string() +
                            ": cannot create database file: " + std::strerror(errno));
    }
    ::fchmod(fd, 0600);
    ::close(fd);
}

// Looks at what is at `path` before SQLite opens it (opening may already write): true when a
// database file is there, false when nothing is. Throws DatabaseError for a dangling symlink
// (whose target SQLite would create), anything but a regular file, and an empty file (a
// truncated database, or a mistake; never silently initialised: docs/operations.md).
bool database_file_exists(const std::filesystem::path& path) {
    struct stat link {};
    if (::lstat(path.c_str(), &link) != 0) {
        if (errno == ENOENT) {
            return false;
        }
        throw DatabaseError(path.string() + ": cannot stat: " + std::strerror(errno));
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT && S_ISLNK(link.st_mode)) {
            std::error_code ec;
            const auto target = std::filesystem::read_symlink(path, ec);
            throw DatabaseError(path.string() + ": is a symbolic link to " + target.string() +
                                ", which does not exist; lethe does not create a database "
                                "through a link: set database.path to the real file");
        }
        throw DatabaseError(path.string() + ": cannot stat: " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        throw DatabaseError(path.string() + ": is " + file_type_name(st.st_mode) +
                            ", not a database file");
    }
    if (st.st_size == 0) {
        throw DatabaseError(path.string() +
                            ": is empty (0 bytes), not a lethe database; if it was cut short, "
                            "restore it from a backup; if a new database is meant, remove the "
                            "file and run `lethe init`");
    }
    return true;
}

// Removes a database file this process has just created and could not initialise (disk full),
// so the next `lethe init` finds nothing instead of an empty file it refuses.
void remove_new_database(const std::filesystem::path& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        ::unlink((path.string() + suffix).c_str());
    }
}

} // namespace

int latest_schema_version() {
    const auto& all = embedded_migrations();
    return all.empty() ? 0 : all.back().version;
}

Database::Database(const std::filesystem::path& path, OpenMode mode) : m_path(path) {
    bool exists = database_file_exists(path);
    if (!exists && mode == OpenMode::existing) {
        throw DatabaseError(path.string() + ": database does not exist; run `lethe init` first");
    }
    if (!exists) {
        if (path.has_parent_path()) {
            std::filesystem::create_directories(path.parent_path());
        }
        create_private_db_file(path);
    }
    try {
        m_db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READWRITE);
        configure();
        migrate();
    } catch (const std::exception& e) {
        m_db.reset();
        if (!exists) {
            remove_new_database(path);
        }
        if (dynamic_cast<const SQLite::Exception*>(&e) != nullptr) {
            throw DatabaseError(path.string() + ": " + e.what());
        }
        throw;
    }
}

bool is_busy(const std::exception& e) {
    const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
    if (sqlite == nullptr) {
        return false;
    }
    const int primary = sqlite->getErrorCode() & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

const IdentifierCipher& Database::cipher() {
    std::lock_guard lock(m_cipher_mutex);
    if (!m_cipher) {
        if (!m_cipher_loader) {
            throw DatabaseError(m_path.string() + ": an identifier is needed but no identifier key "
                                                  "was loaded");
        }
        m_cipher.emplace(m_cipher_loader());
    }
    return *m_cipher;
}

std::optional<std::string> column_text(const SQLite::Column& column) {
    return column.isNull() ? std::nullopt : std::optional<std::string>(column.getString());
}

std::string_view column_bytes(const SQLite::Column& column) {
    const auto* data = static_cast<const char*>(column.getBlob());
    return {data, static_cast<std::size_t>(column.getBytes())};
}

void bind_blob(SQLite::Statement& statement, int index, std::string_view bytes) {
    statement.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

std::string Database::identifier_from(const SQLite::Column& column, std::string_view request_id) {
    return column.isBlob() ? cipher().open_identifier(column_bytes(column), request_id)
                           : column.getString();
}

std::string Database::profile_from(const SQLite::Column& column, std::int64_t erasure) {
    return column.isBlob() ? cipher().open_profile(column_bytes(column), erasure)
                           : column.getString();
}

int Database::schema_version() {
    return m_db->execAndGet("PRAGMA user_version").getInt();
}

void Database::configure() {
    sqlite3* raw = m_db->getHandle();
    // Defensive mode forbids writable_schema and other ways of corrupting the file from SQL.
    sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_busy_handler(raw, poll_while_busy, nullptr);
    // Probe that this is a lethe database before changing anything: the switch to WAL below
    // already rewrites the file's header, which a foreign file must never see.
    const int objects = m_db->execAndGet("SELECT count(*) FROM sqlite_schema").getInt();
    const int version = schema_version();
    if (version == 0 && objects != 0) {
        throw DatabaseError(m_path.string() +
                            ": not a lethe database (it has tables but no schema version)");
    }
    if (version != 0 &&
        m_db->execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                         "('requests', 'audit_log', 'checkpoints')")
                .getInt() != 3) {
        throw DatabaseError(m_path.string() + ": not a lethe database (schema version " +
                            std::to_string(version) + " but no lethe tables)");
    }
    std::string journal = m_db->execAndGet("PRAGMA journal_mode=WAL").getString();
    if (journal != "wal") {
        throw DatabaseError(m_path.string() + ": cannot switch to WAL mode (got " + journal + ")");
    }
    m_db->exec("PRAGMA synchronous=FULL");
    m_db->exec("PRAGMA foreign_keys=ON");
    m_db->exec("PRAGMA trusted_schema=OFF");
    // An erased person's identifier must not survive in free space of the file: deleted and
    // overwritten content is zeroed.
    m_db->exec("PRAGMA secure_delete=ON");
    // Statement journals (one per INSERT: foreign keys and triggers may abort a statement) stay
    // in memory instead of a temporary file: a 1M-row import made 6 writes per row to it.
    m_db->exec("PRAGMA temp_store=MEMORY");
    // 24 MiB of page cache (default 2 MiB): large imports rewrite fewer index pages, and the
    // process stays well under 64 MiB.
    m_db->exec("PRAGMA cache_size=-24576");
}

void Database::apply_migration(std::string_view sql) {
    // A migration that widens a CHECK constraint edits the stored schema text (SQLite's
    // documented procedure for changes that leave every row valid; see 0004). Defensive mode,
    // which forbids that, is lifted for that migration only; the schema cookie is bumped so that
    // every connection reads the new schema.
    const bool edits_schema = sql.find("PRAGMA writable_schema") != std::string_view::npos;
    sqlite3* raw = m_db->getHandle();
    if (edits_schema) {
        sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 0, nullptr);
    }
    try {
        m_db->exec(std::string(sql));
        if (edits_schema) {
            const int cookie = m_db->execAndGet("PRAGMA schema_version").getInt();
            m_db->exec("PRAGMA schema_version=" + std::to_string(cookie + 1));
        }
    } catch (...) {
        m_db->exec("PRAGMA writable_schema=OFF");
        sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
        throw;
    }
    if (edits_schema) {
        sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    }
}

void Database::migrate() {
    const int latest = latest_schema_version();
    int current = schema_version();
    if (current > latest) {
        throw DatabaseError(m_path.string() + ": database schema version " +
                            std::to_string(current) + " is newer than this lethe supports (" +
                            std::to_string(latest) + "); upgrade lethe");
    }
    if (current == latest) {
        return;
    }
    // IMMEDIATE takes the write lock first, so two processes opening a new database at once
    // cannot both apply the same migration.
    SQLite::Transaction tx(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    current = schema_version();
    if (current == 0) {
        int objects = m_db->execAndGet("SELECT count(*) FROM sqlite_schema").getInt();
        if (objects != 0) {
            throw DatabaseError(m_path.string() +
                                ": not a lethe database (it has tables but no schema version)");
        }
    }
    for (const auto& m : embedded_migrations()) {
        if (m.version > current) {
            apply_migration(m.sql);
            if (m.version == k_merkle_tree_version) {
                backfill_audit_tree(*m_db);
            }
            m_db->exec("PRAGMA user_version=" + std::to_string(m.version));
        }
    }
    tx.commit();
}

} // namespace lethe::store
