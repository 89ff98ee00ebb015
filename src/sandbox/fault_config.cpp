#include "sandbox/fault_config.hpp"

#include "util/strings.hpp"

#include <functional>
#include <map>
#include <stdexcept>

namespace lethe::sandbox {
namespace {

bool is_rate(double p) {
    return p >= 0.0 && p <= 1.0;
}

std::string format_status_rule(const StatusRule& rule) {
    return rule.substring + "=" + std::to_string(rule.status);
}

template <typename T> T get_as(const nlohmann::json& value, const std::string& field) {
    try {
        return value.get<T>();
    } catch (const nlohmann::json::exception&) {
        throw std::invalid_argument("faults: field '" + field + "' has the wrong type");
    }
}

const char* scope_name(FaultScope scope) {
    switch (scope) {
    case FaultScope::both:
        return "both";
    case FaultScope::track:
        return "track";
    case FaultScope::app:
        return "app";
    }
    return "both";
}

FaultScope scope_from_json(const nlohmann::json& value) {
    for (FaultScope s : {FaultScope::both, FaultScope::track, FaultScope::app}) {
        if (value.is_string() && value.get<std::string>() == scope_name(s)) {
            return s;
        }
    }
    throw std::invalid_argument("faults: 'api' must be \"both\", \"track\" or \"app\"");
}

std::vector<StatusRule> rules_from_json(const nlohmann::json& value) {
    if (!value.is_array()) {
        throw std::invalid_argument("faults: 'status_for' must be an array of \"SUBSTRING=CODE\"");
    }
    std::vector<StatusRule> rules;
    for (const auto& item : value) {
        auto rule = item.is_string() ? parse_status_rule(item.get<std::string>()) : std::nullopt;
        if (!rule) {
            throw std::invalid_argument("faults: 'status_for' entries look like \"SUBSTRING=400\"");
        }
        rules.push_back(*rule);
    }
    return rules;
}

using Setter = std::function<void(FaultConfig&, const nlohmann::json&, const std::string&)>;

template <typename T, typename M> Setter set_field(M FaultConfig::*member) {
    return [member](FaultConfig& c, const nlohmann::json& v, const std::string& name) {
        c.*member = get_as<T>(v, name);
    };
}

// One table of settable fields, so the flag names, JSON names and docs stay in step.
const std::map<std::string, Setter>& setters() {
    static const std::map<std::string, Setter> table = {
        {"rate_429", set_field<double>(&FaultConfig::rate_429)},
        {"retry_after",
         [](FaultConfig& c, const nlohmann::json& v, const std::string& name) {
             c.retry_after =
                 v.is_null() ? std::nullopt : std::optional(get_as<std::int64_t>(v, name));
         }},
        {"retry_after_share", set_field<double>(&FaultConfig::retry_after_share)},
        {"retry_after_date", set_field<bool>(&FaultConfig::retry_after_date)},
        {"rate_500", set_field<double>(&FaultConfig::rate_500)},
        {"rate_502", set_field<double>(&FaultConfig::rate_502)},
        {"rate_503", set_field<double>(&FaultConfig::rate_503)},
        {"rate_reset", set_field<double>(&FaultConfig::rate_reset)},
        {"hang_rate", set_field<double>(&FaultConfig::hang_rate)},
        {"hang_ms", set_field<std::int64_t>(&FaultConfig::hang_ms)},
        {"latency_ms", set_field<std::int64_t>(&FaultConfig::latency_ms)},
        {"status_for",
         [](FaultConfig& c, const nlohmann::json& v, const std::string&) {
             c.status_for = rules_from_json(v);
         }},
        {"redirect_to",
         [](FaultConfig& c, const nlohmann::json& v, const std::string& name) {
             c.redirect_to = v.is_null() ? std::string() : get_as<std::string>(v, name);
         }},
        {"destroy_missing_404", set_field<bool>(&FaultConfig::destroy_missing_404)},
        {"api",
         [](FaultConfig& c, const nlohmann::json& v, const std::string&) {
             c.api = scope_from_json(v);
         }},
        {"seed",
         [](FaultConfig& c, const nlohmann::json& v, const std::string& name) {
             c.seed = get_as<std::uint64_t>(v, name);
         }},
    };
    return table;
}

} // namespace

std::optional<StatusRule> parse_status_rule(std::string_view text) {
    auto eq = text.rfind('=');
    if (eq == std::string_view::npos || eq == 0) {
        return std::nullopt;
    }
    auto code = parse_int64(text.substr(eq + 1));
    if (!code || *code < 400 || *code > 599) {
        return std::nullopt;
    }
    return StatusRule{std::string(text.substr(0, eq)), static_cast<int>(*code)};
}

std::string validate(const FaultConfig& c) {
    for (double p : {c.rate_429, c.rate_500, c.rate_502, c.rate_503, c.rate_reset, c.hang_rate,
                     c.retry_after_share}) {
        if (!is_rate(p)) {
            return "rates and shares must be between 0 and 1";
        }
    }
    double sum = c.rate_429 + c.rate_500 + c.rate_502 + c.rate_503 + c.rate_reset + c.hang_rate;
    if (sum > 1.0 + 1e-9) {
        return "the rates of 429, 500, 502, 503, reset and hang add up to more than 1";
    }
    if (c.retry_after && *c.retry_after < 0) {
        return "retry-after must be a number of seconds >= 0";
    }
    if (c.latency_ms < 0 || c.hang_ms < 0) {
        return "latency-ms and hang-ms must be >= 0";
    }
    if (!c.redirect_to.empty() && c.redirect_to.rfind("http://", 0) != 0 &&
        c.redirect_to.rfind("https://", 0) != 0) {
        return "redirect-to must be an http:// or https:// URL";
    }
    return {};
}

nlohmann::json to_json(const FaultConfig& c) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& rule : c.status_for) {
        rules.push_back(format_status_rule(rule));
    }
    return {
        {"rate_429", c.rate_429},
        {"retry_after", c.retry_after ? nlohmann::json(*c.retry_after) : nlohmann::json()},
        {"retry_after_share", c.retry_after_share},
        {"retry_after_date", c.retry_after_date},
        {"rate_500", c.rate_500},
        {"rate_502", c.rate_502},
        {"rate_503", c.rate_503},
        {"rate_reset", c.rate_reset},
        {"hang_rate", c.hang_rate},
        {"hang_ms", c.hang_ms},
        {"latency_ms", c.latency_ms},
        {"status_for", rules},
        {"redirect_to", c.redirect_to.empty() ? nlohmann::json() : nlohmann::json(c.redirect_to)},
        {"destroy_missing_404", c.destroy_missing_404},
        {"api", scope_name(c.api)},
        {"seed", c.seed ? nlohmann::json(*c.seed) : nlohmann::json()}};
}

void merge_json(FaultConfig& config, const nlohmann::json& patch) {
    if (!patch.is_object()) {
        throw std::invalid_argument("faults: the body must be a JSON object");
    }
    FaultConfig next = config;
    for (const auto& [name, value] : patch.items()) {
        auto it = setters().find(name);
        if (it == setters().end()) {
            throw std::invalid_argument("faults: unknown field '" + name + "'");
        }
        it->second(next, value, name);
    }
    config = std::move(next);
}

} // namespace lethe::sandbox
