#include "cli/witnessing.hpp"

#include "audit/checkpoint.hpp"
#include "net/curl_client.hpp"
#include "util/random.hpp"

#include <spdlog/spdlog.h>

namespace lethe::cli {

std::vector<witness::SubmitResult> witness_latest_checkpoint(store::Database& db,
                                                             const config::Config& cfg,
                                                             const Clock& clock, bool force) {
    if (cfg.audit.witnesses.empty()) {
        return {};
    }
    net::CurlOptions options;
    options.timeout_ms = 10'000;
    options.connect_timeout_ms = 5'000;
    net::CurlHttpClient http(options);
    SystemRandom random;
    auto results = witness::submit_latest_checkpoint(db, cfg, http, clock, random, force);
    for (const auto& r : results) {
        if (r.outcome == witness::SubmitOutcome::cosigned) {
            spdlog::info("witness {} cosigned the checkpoint", r.witness);
        }
    }
    return results;
}

void sign_and_witness(Context& ctx) {
    if (ctx.config().audit.witnesses.empty()) {
        return;
    }
    audit::write_checkpoint(ctx.database(), ctx.config(), ctx.clock());
    witness_latest_checkpoint(ctx, true);
}

} // namespace lethe::cli
