#pragma once

#include "sandbox/fault_config.hpp"
#include "util/clock.hpp"

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>

namespace lethe::sandbox {

// What happens to one API call instead of (or, for a reset, after) its normal processing.
enum class FaultKind {
    none,
    status_rule, // a --status-for rule matched
    hang,        // no answer for hang_ms, then the connection is dropped
    reset,       // the call is processed, then the connection drops mid-response
    http_status, // 429, 500, 502 or 503
};

// The fault chosen for one call.
struct FaultDecision {
    FaultKind kind = FaultKind::none;
    int status = 0;                         // for status_rule and http_status
    std::optional<std::string> retry_after; // the Retry-After header, when one is sent
    // Short name for logs and counters: "429", "reset", "hang", "status_for", or "" for none.
    std::string label() const;
};

// The current fault configuration and a seeded random source, shared by all handler threads.
class FaultInjector {
public:
    // Takes a validated configuration; seeds from config.seed or std::random_device.
    explicit FaultInjector(FaultConfig config);
    // A copy of the current configuration.
    FaultConfig config() const;
    // Merges `patch` (the POST /_sandbox/faults body) and reseeds when it names a seed; throws
    // std::invalid_argument (configuration unchanged) when a field or the result is invalid.
    void update(const nlohmann::json& patch);
    // Chooses the fault for an API call; identifier-less calls (region) skip --status-for.
    FaultDecision decide(const std::optional<std::string>& identifier, TimeMs now);

private:
    FaultDecision random_fault(const FaultConfig& c, double u, double share_draw, TimeMs now) const;

    mutable std::mutex m_mutex;
    FaultConfig m_config;
    std::mt19937_64 m_engine;
};

} // namespace lethe::sandbox
