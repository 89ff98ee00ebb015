#include "backup/restore.hpp"

#include "audit/verify.hpp"
#include "backup/backup.hpp"
#include "backup/temp_database.hpp"
#include "store/audit_queries.hpp"
#include "store/online_copy.hpp"
#include "util/error.hpp"

#include <system_error>

namespace lethe::backup {
namespace {

// Refuses while a worker, `lethe serve` or any other process has the database open: the file
// would be replaced under it, and what it writes next would land in the replaced database.
void refuse_if_open(const std::filesystem::path& db) {
    if (auto pid = store::process_holding(db)) {
        throw DatabaseError("restore: " + db.string() + " is open in process " +
                            std::to_string(*pid) +
                            " (a `lethe run` or `lethe serve`?); stop it first (systemctl stop "
                            "lethe.service lethe.timer, and any `lethe serve`), then restore");
    }
}

// Every checkpoint known outside the backup: the database's latest and checkpoint_dir's
// latest.note (audit::stored_checkpoints over `snap`), then the further sources.
std::vector<audit::KnownCheckpoint> known_checkpoints(store::AuditSnapshot& snap,
                                                      const config::Config& cfg,
                                                      const audit::NoteVerifierKey& key,
                                                      const std::vector<CheckpointSource>& more,
                                                      RestoreResult& result) {
    auto known = audit::stored_checkpoints(snap, cfg.audit.checkpoint_dir, key, result.skipped);
    for (const auto& source : more) {
        for (auto& k : source()) {
            known.push_back(std::move(k));
        }
    }
    return known;
}

// Checks that the restored copy extends `known` (when it is nullopt, there is no live database
// and the checkpoints known elsewhere are read through the copy), then verifies it. The roll-back
// check comes first, so a refusal names the checkpoint the backup is behind.
void check_restored(const std::filesystem::path& copy_file, const std::filesystem::path& backup,
                    const config::Config& cfg, const audit::NoteVerifierKey& key,
                    std::optional<std::vector<audit::KnownCheckpoint>> known,
                    const std::vector<CheckpointSource>& more, RestoreResult& result) {
    store::Database copy(copy_file, store::OpenMode::existing);
    {
        store::AuditSnapshot snap(copy);
        if (!known) {
            known = known_checkpoints(snap, cfg, key, more, result);
        }
        audit::check_log_extends(copy, snap, *known, snap.head().size,
                                 "restore: refusing " + backup.string() +
                                     ", it would roll the audit log back");
        result.entries = snap.head().size;
    }
    for (const auto& k : *known) {
        result.checked.push_back(k.source + " (size " + std::to_string(k.checkpoint.size) + ")");
    }
    audit::CheckpointSources sources;
    if (std::filesystem::exists(note_path(backup))) {
        sources.files.push_back(note_path(backup));
    }
    const auto report = audit::verify_database(copy, cfg, key, sources);
    if (!report.ok()) {
        throw Error(ExitCode::failure,
                    "restore: " + backup.string() + " does not verify: " + report.problem_text());
    }
}

// Copies the live database to DB.pre-restore and empties its WAL, so that nothing of it is left
// beside the database file for the restored one to pick up.
std::filesystem::path keep_previous(const std::filesystem::path& db) {
    const auto previous = pre_restore_path(db);
    TempDatabase tmp(previous);
    {
        store::Database live(db, store::OpenMode::existing);
        store::copy_into(live, tmp.path());
        store::checkpoint_wal(live);
    }
    tmp.commit(previous);
    std::filesystem::path wal = db;
    wal += "-wal";
    std::error_code ec;
    if (std::filesystem::exists(wal) && std::filesystem::file_size(wal, ec) != 0) {
        throw DatabaseError("restore: " + wal.string() +
                            " still holds changes; nothing was restored");
    }
    return previous;
}

} // namespace

std::filesystem::path pre_restore_path(const std::filesystem::path& db) {
    std::filesystem::path p = db;
    p += ".pre-restore";
    return p;
}

RestoreResult restore_backup(const config::Config& cfg, const std::filesystem::path& backup_file,
                             const std::vector<CheckpointSource>& more) {
    const auto& db = cfg.database.path;
    refuse_if_open(db);
    if (!std::filesystem::is_regular_file(backup_file)) {
        throw InputError("restore: " + backup_file.string() + ": no such backup file");
    }
    if (same_file_name(backup_file, db)) {
        throw InputError("restore: " + backup_file.string() + " is the database itself");
    }
    const auto key = audit::trusted_verifier_key(std::nullopt, &cfg);
    RestoreResult result;
    result.database = db;
    const bool live_exists = std::filesystem::exists(db);
    std::optional<std::vector<audit::KnownCheckpoint>> known;
    if (live_exists) {
        store::Database live(db, store::OpenMode::existing);
        store::AuditSnapshot snap(live);
        known = known_checkpoints(snap, cfg, key, more, result);
    }
    TempDatabase tmp(db);
    store::copy_file_into(backup_file, tmp.path());
    check_restored(tmp.path(), backup_file, cfg, key, std::move(known), more, result);
    // Again just before the swap: a worker started meanwhile must not lose its writes.
    refuse_if_open(db);
    if (live_exists) {
        result.previous = keep_previous(db);
    }
    remove_sidecars(db);
    tmp.commit(db);
    return result;
}

} // namespace lethe::backup
