#include "backup/backup.hpp"

#include "audit/checkpoint.hpp"
#include "audit/verify.hpp"
#include "backup/temp_database.hpp"
#include "store/audit_queries.hpp"
#include "store/online_copy.hpp"
#include "store/sealing.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <system_error>
#include <unistd.h>

namespace lethe::backup {
namespace {

// Runs `lethe audit verify`'s checks on the copy (its own checkpoints and checkpoint_dir's latest
// one) and the plain-text check; returns the copy's latest checkpoint note. Leaves the copy in
// rollback-journal mode, so it stands alone once closed.
std::string check_copy(const std::filesystem::path& copy_file, const config::Config& cfg,
                       BackupResult& result) {
    store::Database copy(copy_file, store::OpenMode::existing);
    const auto key = audit::trusted_verifier_key(std::nullopt, &cfg);
    const auto report = audit::verify_database(copy, cfg, key, audit::CheckpointSources{});
    if (!report.ok()) {
        throw Error(ExitCode::failure, "backup: the copy does not verify: " +
                                           report.problem_text() + "; nothing was written");
    }
    if (store::holds_plain_identifiers(copy)) {
        // seal_stale_identifiers ran on the live database first; a writer of an older lethe may
        // still be adding plain ones.
        throw Error(ExitCode::failure, "backup: the copy holds identifiers in plain text (an "
                                       "older lethe is writing?); nothing was written");
    }
    std::string note;
    {
        store::AuditSnapshot snap(copy);
        result.entries = snap.head().size;
        auto latest = snap.latest_checkpoint();
        if (!latest) {
            throw Error(ExitCode::failure, "backup: the copy holds no signed checkpoint");
        }
        result.checkpoint_size = latest->size;
        note = std::move(latest->note);
    }
    store::use_rollback_journal(copy);
    return note;
}

} // namespace

bool same_file_name(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ec;
    return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

std::filesystem::path note_path(const std::filesystem::path& backup_file) {
    std::filesystem::path p = backup_file;
    p += ".checkpoint.note";
    return p;
}

BackupResult make_backup(store::Database& live, const config::Config& cfg, const Clock& clock,
                         const std::filesystem::path& out) {
    if (same_file_name(out, live.path())) {
        throw InputError("backup: " + out.string() + " is the database itself");
    }
    // A checkpoint of the head now, so the note beside the copy covers (nearly) all of it.
    audit::write_checkpoint(live, cfg, clock);
    BackupResult result;
    result.file = out;
    result.note_file = note_path(out);
    TempDatabase tmp(out);
    store::copy_into(live, tmp.path());
    const std::string note = check_copy(tmp.path(), cfg, result);
    // The note first: a copy is never at `out` without its checkpoint beside it.
    write_file_atomic(result.note_file, note);
    try {
        tmp.commit(out);
    } catch (...) {
        ::unlink(result.note_file.c_str());
        throw;
    }
    return result;
}

} // namespace lethe::backup
