#pragma once

#include "audit/checkpoint.hpp"
#include "config/config.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// `lethe restore`: puts a backup in place of the database, but never one that would roll the
// audit log back behind a checkpoint signed since.
namespace lethe::backup {

// A further place that knows checkpoints signed before (e.g. witness cosignatures): returns them
// opened and signature-checked; throws lethe::Error when it cannot be read.
using CheckpointSource = std::function<std::vector<audit::KnownCheckpoint>()>;

// What a restore did.
struct RestoreResult {
    std::filesystem::path database;
    std::optional<std::filesystem::path> previous; // the old database's copy (.pre-restore)
    std::int64_t entries = 0;                      // audit entries restored
    std::vector<std::string> checked;              // the checkpoints it extends, by source
    std::vector<std::string> skipped;              // notes not signed by the trusted key
};

// The file a restore keeps the replaced database in: "DB.pre-restore".
std::filesystem::path pre_restore_path(const std::filesystem::path& db);

// Restores `backup_file` as the configured database:
//  1. refuses (lethe::DatabaseError) while another process has the database open;
//  2. copies the backup into a temporary file beside the database and migrates it;
//  3. refuses (lethe::Error, failure) unless its log extends every known checkpoint: the live
//     database's latest, checkpoint_dir/latest.note, and what each of `more` returns;
//  4. runs `lethe audit verify`'s checks on it (with FILE.checkpoint.note when present);
//  5. keeps a copy of the live database as DB.pre-restore, empties its WAL, and renames the
//     restored copy into place.
// Nothing changes at the database until step 5; on failure the temporary file is removed.
RestoreResult restore_backup(const config::Config& cfg, const std::filesystem::path& backup_file,
                             const std::vector<CheckpointSource>& more = {});

} // namespace lethe::backup
