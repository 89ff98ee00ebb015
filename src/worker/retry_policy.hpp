#pragma once

#include "util/clock.hpp"
#include "util/random.hpp"

#include <cstdint>
#include <optional>

namespace lethe::worker {

// How failed attempts are retried.
struct RetryPolicy {
    TimeMs base_ms = 1'000;
    TimeMs max_ms = 3'600'000;
    std::int64_t max_attempts = 10;
};

// Exponential backoff with full jitter: uniform in [1, min(max, base * 2^(attempt-1))] ms for the
// attempt that just failed (1-based). Full jitter spreads retries of many requests that failed
// together (an outage) instead of sending them back in one burst.
TimeMs backoff_delay(const RetryPolicy& policy, std::int64_t failed_attempt, Random& random);

// When to try again: the later of the jittered backoff and the server's Retry-After.
TimeMs next_attempt_time(const RetryPolicy& policy, std::int64_t failed_attempt, TimeMs now,
                         std::optional<TimeMs> retry_after_ms, Random& random);

} // namespace lethe::worker
