#include "store/online_copy.hpp"

#include "util/error.hpp"
#include "util/fs.hpp"

#include <SQLiteCpp/Statement.h>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace lethe::store {
namespace {

// The byte of the -shm file that every open connection holds a shared lock on (UNIX_SHM_DMS in
// SQLite's os_unix.c: (22 + SQLITE_SHM_NLOCK) * 4 + SQLITE_SHM_NLOCK, with 8 locks).
constexpr off_t k_shm_dms_byte = 128;

void vacuum_into(SQLite::Database& db, const std::filesystem::path& empty_file) {
    SQLite::Statement q(db, "VACUUM INTO ?");
    q.bind(1, empty_file.string());
    q.exec();
}

} // namespace

void copy_into(Database& db, const std::filesystem::path& empty_file) {
    vacuum_into(db.db(), empty_file);
}

void copy_file_into(const std::filesystem::path& source, const std::filesystem::path& empty_file) {
    try {
        SQLite::Database src(source.string(), SQLite::OPEN_READONLY);
        src.exec("PRAGMA trusted_schema=OFF");
        vacuum_into(src, empty_file);
    } catch (const SQLite::Exception& e) {
        throw DatabaseError(source.string() + ": not a readable SQLite database (" + e.what() +
                            ")");
    }
}

void use_rollback_journal(Database& db) {
    db.db().execAndGet("PRAGMA journal_mode=DELETE");
}

void checkpoint_wal(Database& db) {
    SQLite::Statement q(db.db(), "PRAGMA wal_checkpoint(TRUNCATE)");
    q.executeStep();
    // Columns: busy (1 when it could not complete), frames in the WAL, frames checkpointed.
    if (q.getColumn(0).getInt() != 0) {
        throw DatabaseError(db.path().string() +
                            ": another connection keeps the WAL from being checkpointed");
    }
}

std::optional<pid_t> process_holding(const std::filesystem::path& db_file) {
    std::filesystem::path shm = db_file;
    shm += "-shm";
    UniqueFd fd(::open(shm.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        // No -shm file: no connection has the WAL index open.
        return std::nullopt;
    }
    struct flock probe {};
    probe.l_type = F_WRLCK; // conflicts with any shared lock another process holds
    probe.l_whence = SEEK_SET;
    probe.l_start = k_shm_dms_byte;
    probe.l_len = 1;
    if (::fcntl(fd.get(), F_GETLK, &probe) != 0 || probe.l_type == F_UNLCK) {
        return std::nullopt;
    }
    return probe.l_pid;
}

} // namespace lethe::store
