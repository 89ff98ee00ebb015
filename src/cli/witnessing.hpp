#pragma once

#include "cli/command.hpp"
#include "witness/submit.hpp"

#include <vector>

namespace lethe::cli {

// Submits the latest checkpoint to the configured witnesses (over HTTPS, 10 s per witness) and
// logs what each did. `force`: also those still in their backoff. Never throws for a witness's
// failure (it is retried at the next checkpoint); throws SQLite::Exception on database failure.
std::vector<witness::SubmitResult> witness_latest_checkpoint(Context& ctx, bool force);

} // namespace lethe::cli
