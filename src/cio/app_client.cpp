#include "cio/app_client.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace lethe::cio {
namespace {

constexpr std::size_t k_bulk_ids = 100; // the App API's limit per bulk read

using Json = nlohmann::json;

// The cio_id of an App API customer object ({"identifiers": {"cio_id"}} or {"cio_id"}).
std::string cio_id_of(const Json& customer) {
    if (!customer.is_object()) {
        return {};
    }
    if (auto ids = customer.find("identifiers"); ids != customer.end() && ids->is_object()) {
        if (auto c = ids->find("cio_id"); c != ids->end() && c->is_string()) {
            return c->get<std::string>();
        }
    }
    if (auto c = customer.find("cio_id"); c != customer.end() && c->is_string()) {
        return c->get<std::string>();
    }
    return {};
}

// Collects the cio_ids of `list` (an array of customers) into `out`; false when the answer does
// not have the expected shape (a 2xx that proves nothing must not read as "nobody").
bool collect(const Json& list, std::vector<std::string>& out) {
    if (!list.is_array()) {
        return false;
    }
    for (const auto& c : list) {
        std::string id = cio_id_of(c);
        if (id.empty()) {
            return false;
        }
        if (std::find(out.begin(), out.end(), id) == out.end()) {
            out.push_back(std::move(id));
        }
    }
    return true;
}

Lookup unexpected_body(Lookup l) {
    l.call.outcome = Outcome::retryable;
    l.call.error = "App API answered with an unexpected body";
    l.cio_ids.clear();
    return l;
}

} // namespace

AppClient::AppClient(net::HttpClient& http, Endpoint endpoint, std::string api_key,
                     const Clock& clock)
    : m_http(http), m_api_key(std::move(api_key)), m_clock(clock) {
    validate_endpoint(endpoint, "app_url");
    m_base = endpoint.track_url;
    while (m_base.ends_with('/')) {
        m_base.pop_back();
    }
}

void AppClient::set_api_key(std::string api_key) {
    m_api_key = std::move(api_key);
}

AppClient::Exchange AppClient::send(const char* method, const std::string& path_and_query,
                                    std::string body) {
    net::HttpRequest req;
    req.method = method;
    req.url = m_base + path_and_query;
    req.headers.emplace_back("Authorization", "Bearer " + m_api_key);
    req.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
    }
    req.body = std::move(body);
    Exchange ex;
    ex.response = m_http.perform(req);
    CallResult& r = ex.call;
    r.latency_ms = ex.response.latency_ms;
    r.http_status = ex.response.status;
    if (ex.response.status == 0) {
        r.outcome = Outcome::retryable;
        r.error =
            ex.response.transport_error.empty() ? "network error" : ex.response.transport_error;
        return ex;
    }
    // Only the status: an App API error body may echo the identifier (invariant 9).
    r.outcome = classify_status(ex.response.status);
    if (r.outcome != Outcome::success) {
        r.error = "HTTP " + std::to_string(ex.response.status);
    }
    if (r.outcome == Outcome::retryable) {
        if (const auto value = ex.response.header("retry-after")) {
            r.retry_after_ms = parse_retry_after(*value, m_clock.now_ms());
        }
    }
    return ex;
}

Lookup AppClient::find(const Target& who) {
    Lookup l;
    if (who.id_type == "email") {
        // '+' must be %2B: an unencoded '+' reads as a space and silently finds nobody.
        Exchange ex = send("GET", "/v1/customers?email=" + percent_encode(who.value), "");
        l.call = ex.call;
        if (l.call.outcome != Outcome::success) {
            return l;
        }
        auto body = Json::parse(ex.response.body, nullptr, false);
        if (body.is_discarded() || !body.is_object() || !body.contains("results") ||
            !collect(body["results"], l.cio_ids)) {
            return unexpected_body(std::move(l));
        }
        return l;
    }
    Exchange ex = send("GET",
                       "/v1/customers/" + percent_encode(who.value) +
                           "/attributes?id_type=" + percent_encode(who.id_type),
                       "");
    l.call = ex.call;
    if (l.call.http_status == 404) {
        l.call.outcome = Outcome::success; // nobody has it
        l.call.error.clear();
        return l;
    }
    if (l.call.http_status == 400) {
        l.not_an_identifier = true;
        return l;
    }
    if (l.call.outcome != Outcome::success) {
        return l;
    }
    auto body = Json::parse(ex.response.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("customer")) {
        return unexpected_body(std::move(l));
    }
    std::string id = cio_id_of(body["customer"]);
    if (id.empty()) {
        return unexpected_body(std::move(l));
    }
    l.cio_ids.push_back(std::move(id));
    return l;
}

Lookup AppClient::present(const std::vector<std::string>& cio_ids) {
    Lookup total;
    total.call.outcome = Outcome::success;
    for (std::size_t i = 0; i < cio_ids.size(); i += k_bulk_ids) {
        const std::size_t end = std::min(cio_ids.size(), i + k_bulk_ids);
        Json body = {{"ids", std::vector<std::string>(cio_ids.begin() + static_cast<long>(i),
                                                      cio_ids.begin() + static_cast<long>(end))}};
        Exchange ex = send("POST", "/v1/customers/attributes?id_type=cio_id", body.dump());
        const TimeMs latency = total.call.latency_ms + ex.call.latency_ms;
        total.call = ex.call;
        total.call.latency_ms = latency;
        if (total.call.outcome != Outcome::success) {
            total.cio_ids.clear();
            return total;
        }
        auto answer = Json::parse(ex.response.body, nullptr, false);
        if (answer.is_discarded() || !answer.is_object() || !answer.contains("customers") ||
            !collect(answer["customers"], total.cio_ids)) {
            return unexpected_body(std::move(total));
        }
    }
    return total;
}

Lookup AppClient::email_is_identifier(std::string_view email) {
    Lookup l;
    Exchange ex =
        send("GET", "/v1/customers/" + percent_encode(email) + "/attributes?id_type=email", "");
    l.call = ex.call;
    if (l.call.http_status == 400) {
        l.not_an_identifier = true;
        l.call.outcome = Outcome::success;
        l.call.error.clear();
    } else if (l.call.http_status == 404 || l.call.http_status == 200) {
        l.call.outcome = Outcome::success;
        l.call.error.clear();
    }
    return l;
}

} // namespace lethe::cio
