#include "audit/keys.hpp"
#include "cli/command.hpp"
#include "store/import_staging.hpp"
#include "store/sealing.hpp"
#include "util/error.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace lethe::cli {

Context::Context(GlobalOptions options) : m_options(std::move(options)) {
}

const config::Config& Context::config() {
    if (!m_config) {
        m_config = config::load_config(config::config_path(m_options.config_file));
    }
    return *m_config;
}

store::Database::CipherLoader identifier_cipher_loader(const config::Config& cfg) {
    return [file = cfg.database.identifier_key_file] {
        const auto path = audit::identifier_key_path(file);
        std::error_code ec;
        if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
            // After an upgrade from a lethe that stored identifiers in plain text, first of all.
            throw ConfigError(path.string() +
                              ": no identifier key: run `lethe init` to create it (it also seals "
                              "the identifiers an older lethe stored in plain text)");
        }
        return store::IdentifierCipher(audit::load_identifier_keys(file));
    };
}

void seal_stale_identifiers(store::Database& db) {
    const auto sealed = store::seal_identifiers(db);
    if (sealed.identifiers + sealed.profiles > 0) {
        spdlog::info("identifiers sealed at rest: {} request(s), {} profile(s)", sealed.identifiers,
                     sealed.profiles);
    }
}

void finish_stopped_imports(Context& ctx) {
    SystemSleeper sleeper;
    store::recover_imports_if_idle(ctx.database(), ctx.clock(), sleeper,
                                   config::workspace_names(ctx.config()));
}

void say_database_busy() {
    spdlog::warn("the database is busy (another process holds its write lock: an import?); "
                 "waiting for it");
}

store::Database& Context::database() {
    if (!m_db) {
        m_db = std::make_unique<store::Database>(config().database.path, store::OpenMode::existing);
        m_db->set_cipher_loader(identifier_cipher_loader(config()));
    }
    return *m_db;
}

std::string Context::actor() const {
    const passwd* pw = ::getpwuid(::getuid());
    return std::string("cli:") + (pw != nullptr ? pw->pw_name : std::to_string(::getuid()));
}

} // namespace lethe::cli
