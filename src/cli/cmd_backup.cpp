#include "backup/backup.hpp"
#include "backup/restore.hpp"
#include "cli/command.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// `lethe backup -o FILE`: an online copy, verified before it is reported.
class BackupCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.add_option("-o,--output", m_output, "The backup file to write (mode 0600)")->required();
        app.footer("Signs a checkpoint of the log, copies the database while workers and "
                   "`lethe serve` keep running (VACUUM INTO: one consistent snapshot), runs the "
                   "checks of `lethe audit verify` on the copy, and only then puts it at FILE, "
                   "with its latest checkpoint in FILE.checkpoint.note. Identifiers stay sealed; "
                   "the keys are not copied (back them up separately, docs/operations.md). On "
                   "failure nothing is left at FILE.");
    }

    int run(Context& ctx) override {
        // As run and serve do: nothing written by an older lethe stays in plain text in the copy.
        seal_stale_identifiers(ctx.database());
        const auto r = backup::make_backup(ctx.database(), ctx.config(), ctx.clock(), m_output);
        std::cout << "backup written to " << r.file.string() << ": " << r.entries
                  << " audit entries, verified; checkpoint (size " << r.checkpoint_size << ") in "
                  << r.note_file.string() << "\n";
        return 0;
    }

private:
    std::filesystem::path m_output;
};

// `lethe restore FILE`: the backup in place of the database, never behind a known checkpoint.
class RestoreCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.add_option("file", m_file, "A file written by `lethe backup`")->required();
        app.footer("Refuses while a worker or `lethe serve` has the database open. Verifies the "
                   "backup (as `lethe audit verify`, with FILE.checkpoint.note when present) and "
                   "refuses it unless its audit log extends the checkpoints kept elsewhere: the "
                   "live database's latest and checkpoint_dir/latest.note. The replaced database "
                   "is kept as DATABASE.pre-restore; the restored one is renamed into place.");
    }

    int run(Context& ctx) override {
        const auto r = backup::restore_backup(ctx.config(), m_file);
        for (const auto& s : r.skipped) {
            std::cout << "  " << s << "\n";
        }
        for (const auto& c : r.checked) {
            std::cout << "  extends " << c << "\n";
        }
        if (r.previous) {
            std::cout << "previous database kept as " << r.previous->string() << "\n";
        }
        std::cout << "restored " << m_file.string() << " to " << r.database.string() << ": "
                  << r.entries << " audit entries, verified\n";
        return 0;
    }

private:
    std::filesystem::path m_file;
};

} // namespace

std::unique_ptr<Command> make_backup_command() {
    return std::make_unique<BackupCommand>();
}

std::unique_ptr<Command> make_restore_command() {
    return std::make_unique<RestoreCommand>();
}

} // namespace lethe::cli
