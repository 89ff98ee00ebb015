#include "cli/command.hpp"

#include <pwd.h>
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

store::Database& Context::database() {
    if (!m_db) {
        m_db = std::make_unique<store::Database>(config().database.path, store::OpenMode::existing);
    }
    return *m_db;
}

std::string Context::actor() const {
    const passwd* pw = ::getpwuid(::getuid());
    return std::string("cli:") + (pw != nullptr ? pw->pw_name : std::to_string(::getuid()));
}

} // namespace lethe::cli
