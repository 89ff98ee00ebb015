#include "worker/retry_policy.hpp"

#include <algorithm>

namespace lethe::worker {

TimeMs backoff_delay(const RetryPolicy& policy, std::int64_t failed_attempt, Random& random) {
    const std::int64_t exponent = std::clamp<std::int64_t>(failed_attempt - 1, 0, 40);
    TimeMs ceiling = policy.max_ms;
    // base * 2^exponent without overflow: stop doubling once the cap is reached.
    TimeMs grown = policy.base_ms;
    for (std::int64_t i = 0; i < exponent && grown < policy.max_ms; ++i) {
        grown *= 2;
    }
    ceiling = std::min(ceiling, grown);
    ceiling = std::max<TimeMs>(ceiling, 1);
    return 1 + static_cast<TimeMs>(random.uniform(static_cast<std::uint64_t>(ceiling - 1)));
}

TimeMs next_attempt_time(const RetryPolicy& policy, std::int64_t failed_attempt, TimeMs now,
                         std::optional<TimeMs> retry_after_ms, Random& random) {
    TimeMs delay = backoff_delay(policy, failed_attempt, random);
    if (retry_after_ms) {
        delay = std::max(delay, *retry_after_ms);
    }
    return now + delay;
}

} // namespace lethe::worker
