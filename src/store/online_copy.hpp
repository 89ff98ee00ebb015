#pragma once

#include "store/database.hpp"

#include <filesystem>
#include <optional>
#include <sys/types.h>

// Whole-database copies for `lethe backup` and `lethe restore`, and the test of whether another
// process has a database open.
namespace lethe::store {

// Writes a consistent copy of `db` into `empty_file` (which must exist and be empty) with
// `VACUUM INTO`: one read transaction, so writers go on meanwhile (WAL), and only live pages are
// written, so no freed page of an erased identifier reaches the copy. Throws SQLite::Exception.
void copy_into(Database& db, const std::filesystem::path& empty_file);

// The same from a database file that is not opened as a lethe database (a backup to restore):
// opened read-only, so the file itself is never changed. Throws lethe::DatabaseError when it is
// not a readable SQLite database.
void copy_file_into(const std::filesystem::path& source, const std::filesystem::path& empty_file);

// Switches `db` to a rollback journal, so that once closed its file stands alone (no -wal or
// -shm beside it is needed to read it, also read-only). Throws SQLite::Exception.
void use_rollback_journal(Database& db);

// Moves everything in the WAL into the database file and empties the WAL. Throws
// lethe::DatabaseError when another connection keeps it from completing.
void checkpoint_wal(Database& db);

// The id of another process that has the SQLite database `db_file` open, if any. Every
// connection to a WAL database holds a shared lock on the "DMS" byte of its -shm file while it
// is open (SQLite's unix VFS), whether it is reading, writing or idle: a `lethe run` service
// waiting for work is found as well as one erasing. Locks of this process are not reported.
std::optional<pid_t> process_holding(const std::filesystem::path& db_file);

} // namespace lethe::store
