#pragma once

#include "config/config.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

// `lethe backup`: an online, verified copy of the database with its latest checkpoint beside it.
namespace lethe::backup {

// What a backup wrote.
struct BackupResult {
    std::filesystem::path file;      // the copy
    std::filesystem::path note_file; // FILE.checkpoint.note
    std::int64_t entries = 0;        // audit entries in the copy
    std::int64_t checkpoint_size = 0;
};

// Whether `a` and `b` name the same file (after resolving symlinks and `..`), so that neither
// command ever writes over the database it reads.
bool same_file_name(const std::filesystem::path& a, const std::filesystem::path& b);

// The checkpoint note written beside a backup FILE: "FILE.checkpoint.note".
std::filesystem::path note_path(const std::filesystem::path& backup_file);

// Signs a checkpoint of the live head (audit::write_checkpoint), copies `live` into a temporary
// file beside `out` (store::copy_into, while workers go on writing), runs the checks of
// `lethe audit verify` on the copy and checks that no identifier in it is in plain text, then
// puts the copy at `out` (fsync, rename) and the copy's latest checkpoint note beside it. On any
// failure nothing is left at `out` or beside it. Throws lethe::Error (failure) when the copy does
// not verify, lethe::InputError when `out` is the database, lethe::ConfigError for a bad
// checkpoint key.
BackupResult make_backup(store::Database& live, const config::Config& cfg, const Clock& clock,
                         const std::filesystem::path& out);

} // namespace lethe::backup
