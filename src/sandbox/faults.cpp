#include "sandbox/faults.hpp"

#include "sandbox/http_date.hpp"

#include <stdexcept>

namespace lethe::sandbox {
namespace {

std::mt19937_64 make_engine(const std::optional<std::uint64_t>& seed) {
    return std::mt19937_64(seed ? *seed : std::random_device{}());
}

std::optional<StatusRule> matching_rule(const FaultConfig& c,
                                        const std::optional<std::string>& identifier) {
    if (!identifier) {
        return std::nullopt;
    }
    for (const auto& rule : c.status_for) {
        if (identifier->find(rule.substring) != std::string::npos) {
            return rule;
        }
    }
    return std::nullopt;
}

} // namespace

std::string FaultDecision::label() const {
    switch (kind) {
    case FaultKind::none:
        return {};
    case FaultKind::status_rule:
        return "status_for";
    case FaultKind::hang:
        return "hang";
    case FaultKind::reset:
        return "reset";
    case FaultKind::http_status:
        return std::to_string(status);
    }
    return {};
}

FaultInjector::FaultInjector(FaultConfig config)
    : m_config(std::move(config)), m_engine(make_engine(m_config.seed)) {
}

FaultConfig FaultInjector::config() const {
    std::lock_guard lock(m_mutex);
    return m_config;
}

void FaultInjector::update(const nlohmann::json& patch) {
    std::lock_guard lock(m_mutex);
    FaultConfig next = m_config;
    merge_json(next, patch);
    if (auto problem = validate(next); !problem.empty()) {
        throw std::invalid_argument("faults: " + problem);
    }
    m_config = std::move(next);
    if (patch.contains("seed")) {
        m_engine = make_engine(m_config.seed);
    }
}

FaultDecision FaultInjector::decide(const std::optional<std::string>& identifier, TimeMs now) {
    std::lock_guard lock(m_mutex);
    if (auto rule = matching_rule(m_config, identifier)) {
        return {FaultKind::status_rule, rule->status, std::nullopt};
    }
    // Two draws per call whatever the outcome, so a seed gives the same sequence of faults
    // whichever of them are enabled.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    double u = unit(m_engine);
    double share_draw = unit(m_engine);
    return random_fault(m_config, u, share_draw, now);
}

FaultDecision FaultInjector::random_fault(const FaultConfig& c, double u, double share_draw,
                                          TimeMs now) const {
    double edge = c.hang_rate;
    if (u < edge) {
        return {FaultKind::hang, 0, std::nullopt};
    }
    if (u < (edge += c.rate_reset)) {
        return {FaultKind::reset, 0, std::nullopt};
    }
    if (u < (edge += c.rate_429)) {
        FaultDecision d{FaultKind::http_status, 429, std::nullopt};
        if (c.retry_after && share_draw < c.retry_after_share) {
            d.retry_after = c.retry_after_date ? format_http_date(now + *c.retry_after * 1000)
                                               : std::to_string(*c.retry_after);
        }
        return d;
    }
    for (auto [rate, status] : {std::pair{c.rate_500, 500}, {c.rate_502, 502}, {c.rate_503, 503}}) {
        if (u < (edge += rate)) {
            return {FaultKind::http_status, status, std::nullopt};
        }
    }
    return {};
}

} // namespace lethe::sandbox
