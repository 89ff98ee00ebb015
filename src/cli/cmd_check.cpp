#include "cio/pin.hpp"
#include "cli/command.hpp"
#include "cli/track_api.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <iostream>
#include <optional>

namespace lethe::cli {
namespace {

ExitCode exit_code_of(cio::PinStatus status) {
    switch (status) {
    case cio::PinStatus::ok:
        return ExitCode::ok;
    case cio::PinStatus::credentials_refused:
        return ExitCode::auth;
    case cio::PinStatus::unreachable:
        return ExitCode::unreachable;
    case cio::PinStatus::environment_mismatch:
    case cio::PinStatus::region_mismatch:
    case cio::PinStatus::url_mismatch:
        return ExitCode::pin_mismatch;
    }
    return ExitCode::failure;
}

// `lethe check`: for every workspace, are its credentials good, and do they answer for the
// configured workspace (environment id, region, host)?
class CheckCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Calls GET /api/v1/accounts/region of every configured workspace with its "
                   "credentials and prints one line each: its region, environment id and "
                   "latency, or why it failed. Exit codes: 0 all good; otherwise that of the "
                   "first failing workspace: 3 its configuration or key cannot be used, 6 "
                   "credentials refused, 7 host unreachable or failing, 8 pin mismatch: the key "
                   "belongs to another environment_id, the workspace is in the other region (an "
                   "EU workspace reached through the US host sends personal data through the "
                   "US), or the answer names or comes from another host than track_url.");
    }

    int run(Context& ctx) override {
        const auto& cfg = ctx.config();
        first_workspace(cfg); // throws the "no workspace" error
        std::size_t width = 0;
        for (const auto& ws : cfg.workspaces) {
            width = std::max(width, ws.name.size());
        }
        std::optional<Error> first_failure;
        std::size_t failures = 0;
        for (const auto& ws : cfg.workspaces) {
            auto line = [&](const char* status, const std::string& rest) {
                std::cout << ws.name << std::string(width - ws.name.size() + 3, ' ') << status
                          << "   " << rest << "\n"
                          << std::flush;
            };
            auto fail = [&](ExitCode code, const std::string& message) {
                line("FAILED", message);
                ++failures;
                if (!first_failure) {
                    first_failure.emplace(code, "workspace " + ws.name + ": " + message);
                }
            };
            cio::RegionInfo info;
            try {
                TrackApi api(cfg, ws, ctx.clock());
                info = api.region();
            } catch (const Error& e) {
                fail(e.code(), e.what());
                continue;
            }
            const auto pin = cio::check_pin(info, {ws.region, ws.environment_id, ws.track_url});
            if (pin.status != cio::PinStatus::ok) {
                fail(exit_code_of(pin.status), pin.message);
                continue;
            }
            line("ok", "region " + info.region + "   environment " +
                           std::to_string(info.environment_id) + "   " +
                           std::to_string(info.call.latency_ms) + " ms");
            if (!ws.environment_id) {
                std::cerr << "lethe: warning: workspace " << ws.name
                          << ": environment_id is not set, so a key of another workspace would "
                             "pass; add environment_id = "
                          << info.environment_id << " to "
                          << (ws.from_customerio_section ? "[customerio]" : "its [[workspace]]")
                          << "\n";
            }
            if (!ws.has_app_api_key()) {
                std::cerr << "lethe: warning: workspace " << ws.name
                          << ": no App API key, so its erasures cannot be read back and are "
                             "recorded as unverified; add app_api_key_file (see "
                             "docs/verification.md)\n";
            }
        }
        if (first_failure) {
            if (failures > 1) {
                throw Error(first_failure->code(), std::string(first_failure->what()) + " (and " +
                                                       std::to_string(failures - 1) +
                                                       " more failing workspace" +
                                                       (failures == 2 ? "" : "s") + ", see above)");
            }
            throw *first_failure;
        }
        return 0;
    }
};

} // namespace

std::unique_ptr<Command> make_check_command() {
    return std::make_unique<CheckCommand>();
}

} // namespace lethe::cli
