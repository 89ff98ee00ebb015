#pragma once

#include "cli/command.hpp"
#include "witness/submit.hpp"

#include <vector>

namespace lethe::cli {

// Submits the latest checkpoint to the configured witnesses (over HTTPS, 10 s per witness) and
// logs what each did. `force`: also those still in their backoff. Never throws for a witness's
// failure (it is retried at the next checkpoint); throws SQLite::Exception on database failure.
std::vector<witness::SubmitResult> witness_latest_checkpoint(store::Database& db,
                                                             const config::Config& cfg,
                                                             const Clock& clock, bool force);

inline std::vector<witness::SubmitResult> witness_latest_checkpoint(Context& ctx, bool force) {
    return witness_latest_checkpoint(ctx.database(), ctx.config(), ctx.clock(), force);
}

// With witnesses configured: signs a checkpoint of the head and submits it now, so that an
// export or a proof bundle made next carries the freshest witnessed checkpoint. Without
// witnesses it does nothing (the export and the bundle sign their own notes).
void sign_and_witness(Context& ctx);

} // namespace lethe::cli
