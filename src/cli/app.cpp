#include "cli/app.hpp"

#include "cli/command.hpp"
#include "cli/completion.hpp"
#include "cli/logging.hpp"
#include "config/secrets.hpp"
#include "lethe_version.h"
#include "util/error.hpp"

#include <SQLiteCpp/Exception.h>
#include <cstdio>
#include <curl/curl.h>
#include <iostream>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace lethe::cli {
namespace {

// `lethe --version`: this build, then the libraries actually loaded at run time (which a
// security update may have changed since the build).
std::string version_text() {
    const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
    std::string text =
        std::string("lethe ") + LETHE_VERSION + " (git " + LETHE_GIT_REVISION + ")\n";
    text += std::string("SQLite ") + sqlite3_libversion() + "\n";
    text += std::string("libcurl ") + (curl->version != nullptr ? curl->version : "unknown");
    if (curl->ssl_version != nullptr) {
        text += std::string(" (") + curl->ssl_version + ")";
    }
    text += "\n";
    text += std::string("OpenSSL ") + OpenSSL_version(OPENSSL_VERSION_STRING) + "\n";
    text += std::string("libmicrohttpd ") + MHD_get_version();
    return text;
}

int report(ExitCode code, std::string message) {
    // A backstop: messages are built without secrets, but a library's text might echo one.
    config::redact_secrets(message);
    std::cerr << "lethe: error: " << message << "\n";
    return static_cast<int>(code);
}

// Loads what the command needs up front, so no command starts on a bad config or database.
void satisfy(Needs needs, Context& ctx) {
    if (needs == Needs::flags_only) {
        return;
    }
    ctx.config();
    if (needs == Needs::database || needs == Needs::network) {
        ctx.database();
    }
}

} // namespace

int app_main(int argc, char** argv) {
    CLI::App app{"lethe: durable GDPR/CCPA erasure worker for Customer.io", "lethe"};
    app.set_version_flag("--version", version_text);
    GlobalOptions options;
    app.add_option("-c,--config", options.config_file,
                   "Configuration file (default: $LETHE_CONFIG, else /etc/lethe/lethe.toml)");
    app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_option("--log-format", options.log_format,
                   "text (default; syslog priority prefixes under systemd) or json (one object "
                   "per line)")
        ->check(CLI::IsMember({"text", "json"}));
    app.require_subcommand(1);
    app.footer("Exit codes: 0 ok, 1 failure, 2 usage, 3 config, 4 bad input, 5 database, "
               "6 auth, 7 unreachable, 8 region mismatch.\n"
               "Run `lethe COMMAND --help` for a command's options.");

    struct Registered {
        const CommandSpec* spec;
        CLI::App* sub;
        std::unique_ptr<Command> command;
    };
    std::vector<Registered> registered;
    for (const auto& spec : command_table()) {
        CLI::App* sub = app.add_subcommand(spec.name, spec.summary);
        auto command = spec.make();
        command->define(*sub);
        registered.push_back({&spec, sub, std::move(command)});
    }

    // Hidden (group ""): meson runs it at build time to make the installed bash completion.
    std::string shell;
    CLI::App* completion = app.add_subcommand("completion", "Print a shell completion script");
    completion->group("");
    completion->add_option("shell", shell, "bash")->required()->check(CLI::IsMember({"bash"}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return static_cast<int>(ExitCode::usage);
    }

    if (completion->parsed()) {
        std::cout << bash_completion(app);
        return 0;
    }
    try {
        setup_logging(options.log_level, options.log_format);
        Context ctx(options);
        for (auto& r : registered) {
            if (r.sub->parsed()) {
                satisfy(r.spec->needs, ctx);
                return r.command->run(ctx);
            }
        }
        return report(ExitCode::usage, "no command given");
    } catch (const Error& e) {
        return report(e.code(), e.what());
    } catch (const SQLite::Exception& e) {
        return report(ExitCode::database, std::string("database: ") + e.what());
    } catch (const std::exception& e) {
        return report(ExitCode::failure, e.what());
    }
}

} // namespace lethe::cli
