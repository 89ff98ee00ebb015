#include "audit/keys.hpp"
#include "cli/command.hpp"
#include "intake/admission.hpp"
#include "store/database.hpp"
#include "store/sealing.hpp"
#include "util/error.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// `lethe init`: everything a new installation needs, created only where missing.
class InitCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Creates the database (migrated to the current schema), the subject key, "
                   "the identifier key and the Ed25519 checkpoint key where they are missing, "
                   "all mode 0600, and seals identifiers still in plain text (a key "
                   "given as a systemd credential is used, not created). "
                   "Safe to run again: existing files are never overwritten.");
    }

    int run(Context& ctx) override {
        const auto& cfg = ctx.config();
        const auto subject_key = audit::subject_key_path(cfg.audit.subject_key_file);
        report("subject key", subject_key,
               subject_key == cfg.audit.subject_key_file && audit::create_subject_key(subject_key));
        const auto checkpoint_key = audit::checkpoint_key_path(cfg.audit.checkpoint_key_file);
        report("checkpoint key", checkpoint_key,
               checkpoint_key == cfg.audit.checkpoint_key_file &&
                   audit::create_checkpoint_key(checkpoint_key));
        bool existed = std::filesystem::exists(cfg.database.path);
        store::Database db(cfg.database.path, store::OpenMode::create);
        report("database", cfg.database.path, !existed);
        std::cout << "schema version " << db.schema_version() << "\n";
        const auto identifier_key = audit::identifier_key_path(cfg.database.identifier_key_file);
        if (identifier_key == cfg.database.identifier_key_file &&
            !std::filesystem::exists(identifier_key) && store::holds_sealed_identifiers(db)) {
            // A new key would open none of them: the worker could never erase these people.
            throw ConfigError(identifier_key.string() +
                              ": missing, but the database holds identifiers sealed with it: "
                              "restore the key (docs/operations.md, \"Identifier key\")");
        }
        report("identifier key", identifier_key,
               identifier_key == cfg.database.identifier_key_file &&
                   audit::create_identifier_key(identifier_key));
        db.set_cipher_loader(identifier_cipher_loader(cfg));
        const auto sealed = store::seal_identifiers(db);
        if (sealed.identifiers + sealed.profiles > 0) {
            std::cout << "identifiers sealed: " << sealed.identifiers << " request"
                      << (sealed.identifiers == 1 ? "" : "s") << ", " << sealed.profiles
                      << " profile" << (sealed.profiles == 1 ? "" : "s") << "\n";
        }
        if (store::redigest_needed(db)) {
            auto report = intake::upgrade_subject_digests(
                db, ctx.clock(), intake::load_digester(cfg.audit.subject_key_file));
            std::cout << "subject digest v2: " << report.redigested << " request"
                      << (report.redigested == 1 ? "" : "s") << " digested again, " << report.linked
                      << " linked\n";
        }
        return 0;
    }

private:
    static void report(const char* what, const std::filesystem::path& path, bool created) {
        std::cout << (created ? "created " : "kept    ") << what << " " << path.string() << "\n";
    }
};

} // namespace

std::unique_ptr<Command> make_init_command() {
    return std::make_unique<InitCommand>();
}

} // namespace lethe::cli
