#include "sandbox/app.hpp"

#include "cli/completion.hpp"
#include "lethe_version.h"
#include "sandbox/options.hpp"
#include "sandbox/server.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace lethe::sandbox {
namespace {

constexpr int k_exit_failure = 1;
constexpr int k_exit_usage = 2;

int report(int code, const char* message) {
    std::fprintf(stderr, "lethe-sandbox: error: %s\n", message);
    return code;
}

} // namespace

int sandbox_main(int argc, char** argv) {
    CLI::App app{"lethe-sandbox: a local emulation of the Customer.io Track API calls lethe "
                 "makes, with fault injection (see docs/sandbox.md)",
                 "lethe-sandbox"};
    app.set_version_flag("--version", std::string("lethe-sandbox ") + LETHE_VERSION);
    app.footer("The API key comes from --api-key-file FILE or $LETHE_SANDBOX_API_KEY, never from "
               "an argument.\nExit codes: 0 stopped by SIGTERM/SIGINT, 1 failure, 2 usage.");
    Options options;
    define_options(app, options);
    // Hidden: meson runs `--completion bash` at build time to make the installed completion.
    std::string completion;
    app.add_option("--completion", completion)->group("")->check(CLI::IsMember({"bash"}));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : k_exit_usage;
    }
    if (!completion.empty()) {
        std::cout << cli::bash_completion(app);
        return 0;
    }
    // A client that hangs up must not kill the server with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        check_options(options);
        serve(options, resolve_workspaces(options));
    } catch (const UsageError& e) {
        return report(k_exit_usage, e.what());
    } catch (const std::exception& e) {
        return report(k_exit_failure, e.what());
    }
}

} // namespace lethe::sandbox
