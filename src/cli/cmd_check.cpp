#include "cli/command.hpp"
#include "cli/track_api.hpp"
#include "util/error.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// `lethe check`: are the credentials good, and is the configured region the workspace's?
class CheckCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Calls GET /api/v1/accounts/region with the configured credentials and "
                   "reports the workspace's region and environment id. Exit codes: 0 good, 6 "
                   "credentials refused, 7 host unreachable or failing, 8 the configured region "
                   "differs from the workspace's (an EU workspace reached through the US host "
                   "sends personal data through the US).");
    }

    int run(Context& ctx) override {
        const auto& cfg = ctx.config();
        TrackApi api(cfg, ctx.clock());
        auto info = api.region();
        const auto& call = info.call;
        std::cout << "track url:      " << cfg.customerio.track_url << "\n";
        if (call.outcome == cio::Outcome::auth) {
            throw Error(ExitCode::auth, "Customer.io refused the credentials (HTTP " +
                                            std::to_string(call.http_status) +
                                            "): check customerio.site_id and the Track API key");
        }
        if (call.outcome != cio::Outcome::success) {
            throw Error(ExitCode::unreachable,
                        "cannot reach " + cfg.customerio.track_url + ": " + call.error);
        }
        std::cout << "credentials:    accepted\n"
                  << "region:         " << info.region << "\n"
                  << "environment id: " << info.environment_id << "\n"
                  << "latency:        " << call.latency_ms << " ms\n";
        if (info.region != cfg.customerio.region) {
            std::cerr << "lethe: warning: the workspace is in region \"" << info.region
                      << "\" but customerio.region is \"" << cfg.customerio.region
                      << "\"; set region = \"" << info.region << "\"\n";
            throw Error(ExitCode::region_mismatch, "region mismatch");
        }
        return 0;
    }
};

} // namespace

std::unique_ptr<Command> make_check_command() {
    return std::make_unique<CheckCommand>();
}

} // namespace lethe::cli
