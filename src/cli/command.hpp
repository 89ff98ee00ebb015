#pragma once

#include "config/config.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lethe::cli {

// What a subcommand needs before it runs; `status` never builds a network client.
enum class Needs {
    flags_only, // nothing but its arguments
    config,     // a valid configuration
    database,   // configuration and an existing, migrated database
    network,    // all of the above and Customer.io credentials
};

// Options shared by every subcommand.
struct GlobalOptions {
    std::optional<std::filesystem::path> config_file;
    std::string log_level = "info";
    std::string log_format = "text"; // "text" or "json" (cli/logging.hpp)
};

// What a running subcommand can reach; built lazily so each command pays only for its needs.
class Context {
public:
    explicit Context(GlobalOptions options);
    const GlobalOptions& options() const { return m_options; }
    // The validated configuration (loaded on first use; throws lethe::ConfigError).
    const config::Config& config();
    // The open database (throws lethe::DatabaseError when missing: run `lethe init`).
    store::Database& database();
    const Clock& clock() const { return m_clock; }
    // Who is acting, for audit entries: "cli:<user>".
    std::string actor() const;

private:
    GlobalOptions m_options;
    std::optional<config::Config> m_config;
    std::unique_ptr<store::Database> m_db;
    SystemClock m_clock;
};

// Loads the identifier key of `cfg` when a database first needs it (store::Database).
store::Database::CipherLoader identifier_cipher_loader(const config::Config& cfg);
// Logs that the database is busy (another writer holds its lock) and that the command waits.
void say_database_busy();
// Seals what is still in plain text or under an older identifier key, and says so.
void seal_stale_identifiers(store::Database& db);
// Finishes what a killed `lethe import` left (store::recover_imports_if_idle), for run and serve.
void finish_stopped_imports(Context& ctx);

// One subcommand: declares its arguments, then runs with them.
class Command {
public:
    virtual ~Command() = default;
    // Adds the subcommand's options and positionals to `app`.
    virtual void define(CLI::App& app) = 0;
    // Runs; returns the exit code. Throws lethe::Error on failure.
    virtual int run(Context& ctx) = 0;
};

// An entry of the subcommand table.
struct CommandSpec {
    const char* name;
    const char* summary;
    Needs needs;
    std::unique_ptr<Command> (*make)();
};

// Every subcommand, in the order `lethe --help` lists them.
const std::vector<CommandSpec>& command_table();

// Factories, one per file in src/cli/.
std::unique_ptr<Command> make_init_command();
std::unique_ptr<Command> make_import_command();
std::unique_ptr<Command> make_enqueue_command();
std::unique_ptr<Command> make_status_command();
std::unique_ptr<Command> make_list_command();
std::unique_ptr<Command> make_cancel_command();
std::unique_ptr<Command> make_retry_command();
std::unique_ptr<Command> make_extend_command();
std::unique_ptr<Command> make_run_command();
std::unique_ptr<Command> make_callbacks_command();
std::unique_ptr<Command> make_check_command();
std::unique_ptr<Command> make_config_command();
std::unique_ptr<Command> make_audit_command();
std::unique_ptr<Command> make_report_command();
std::unique_ptr<Command> make_serve_command();
std::unique_ptr<Command> make_sign_command();
std::unique_ptr<Command> make_witness_command();
std::unique_ptr<Command> make_backup_command();
std::unique_ptr<Command> make_restore_command();

} // namespace lethe::cli
