#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lethe::sandbox {

// "--status-for SUBSTRING=CODE": API calls whose identifier contains `substring` get `status`.
struct StatusRule {
    std::string substring;
    int status = 0;
};

// Which API the faults hit.
enum class FaultScope { both, track, app };

// Every injected fault, as set by flags or POST /_sandbox/faults. Rates are probabilities per
// API call; the random ones (hang, reset, 429, 500, 502, 503) are disjoint, so they sum to <= 1.
struct FaultConfig {
    double rate_429 = 0;
    std::optional<std::int64_t> retry_after; // seconds; unset: 429s carry no Retry-After
    double retry_after_share = 1.0;          // share of 429s that carry Retry-After
    bool retry_after_date = false;           // send Retry-After as an HTTP date
    double rate_500 = 0;
    double rate_502 = 0;
    double rate_503 = 0;
    double rate_reset = 0;
    double hang_rate = 0;
    std::int64_t hang_ms = 30'000;
    std::int64_t latency_ms = 0;
    std::vector<StatusRule> status_for;
    std::string redirect_to; // empty: no redirect
    bool destroy_missing_404 = false;
    FaultScope api = FaultScope::both; // faults (latency included) hit this API only
    std::optional<std::uint64_t> seed; // as last set; unset: seeded from std::random_device
};

// Parses "SUBSTRING=CODE" (split at the last '='; CODE 400..599); nullopt when malformed.
std::optional<StatusRule> parse_status_rule(std::string_view text);

// The problem with `config` in one sentence, or an empty string when it is usable.
std::string validate(const FaultConfig& config);

// `config` as JSON, with the same field names POST /_sandbox/faults accepts.
nlohmann::json to_json(const FaultConfig& config);

// Copies the fields present in `patch` over `config`; unknown fields and wrong types throw
// std::invalid_argument naming the field. Does not validate the result.
void merge_json(FaultConfig& config, const nlohmann::json& patch);

} // namespace lethe::sandbox
