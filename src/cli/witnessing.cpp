#include "cli/witnessing.hpp"

#include "net/curl_client.hpp"
#include "util/random.hpp"

#include <spdlog/spdlog.h>

namespace lethe::cli {

std::vector<witness::SubmitResult> witness_latest_checkpoint(Context& ctx, bool force) {
    const auto& cfg = ctx.config();
    if (cfg.audit.witnesses.empty()) {
        return {};
    }
    net::CurlOptions options;
    options.timeout_ms = 10'000;
    options.connect_timeout_ms = 5'000;
    net::CurlHttpClient http(options);
    SystemRandom random;
    auto results =
        witness::submit_latest_checkpoint(ctx.database(), cfg, http, ctx.clock(), random, force);
    for (const auto& r : results) {
        if (r.outcome == witness::SubmitOutcome::cosigned) {
            spdlog::info("witness {} cosigned the checkpoint", r.witness);
        }
    }
    return results;
}

} // namespace lethe::cli
