#include "cio/app_client.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

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

Lookup AppClient::search(const std::string& field, std::string_view value) {
    Lookup l;
    const std::string body =
        Json(
            {{"filter", {{"attribute", {{"field", field}, {"operator", "eq"}, {"value", value}}}}}})
            .dump();
    std::string start;
    for (int page = 0; page < k_max_search_pages; ++page) {
        Exchange ex = send(
            "POST",
            start.empty() ? "/v1/customers" : "/v1/customers?start=" + percent_encode(start), body);
        const TimeMs latency = l.call.latency_ms + ex.call.latency_ms;
        l.call = ex.call;
        l.call.latency_ms = latency;
        if (l.call.outcome != Outcome::success) {
            l.cio_ids.clear();
            return l;
        }
        auto answer = Json::parse(ex.response.body, nullptr, false);
        if (answer.is_discarded() || !answer.is_object() || !answer.contains("identifiers") ||
            !collect(answer["identifiers"], l.cio_ids)) {
            return unexpected_body(std::move(l));
        }
        auto next = answer.find("next");
        if (next == answer.end() || !next->is_string() || next->get<std::string>().empty()) {
            return l;
        }
        start = next->get<std::string>();
    }
    return unexpected_body(std::move(l));
}

Lookup AppClient::find(const Target& who) {
    if (who.id_type == "phone") {
        return search("phone", who.value);
    }
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

namespace {

// The value of `id_type` among a bulk answer's customer identifiers; empty when absent.
std::string identifier_of(const Json& customer, const std::string& id_type) {
    if (!customer.is_object()) {
        return {};
    }
    // Identifiers first; a phone number may be only an attribute in the answer.
    for (const char* part : {"identifiers", "attributes"}) {
        auto ids = customer.find(part);
        if (ids == customer.end() || !ids->is_object()) {
            continue;
        }
        if (auto v = ids->find(id_type); v != ids->end() && v->is_string()) {
            return v->get<std::string>();
        }
    }
    return {};
}

// How the App API compares values of `id_type`: e-mail addresses case-insensitively, the rest
// exactly.
std::string match_key(const std::string& id_type, std::string_view value) {
    return id_type == "email" ? to_lower(value) : std::string(value);
}

BulkLookup unexpected_bulk(BulkLookup l) {
    l.call.outcome = Outcome::retryable;
    l.call.error = "App API answered with an unexpected body";
    for (auto& ids : l.cio_ids) {
        ids.clear();
    }
    return l;
}

} // namespace

BulkLookup AppClient::find_many(const std::string& id_type,
                                const std::vector<std::string>& values) {
    if (values.empty() || values.size() > k_max_bulk_values) {
        throw std::invalid_argument("AppClient::find_many: 1 to 100 values");
    }
    BulkLookup l;
    l.cio_ids.resize(values.size());
    Exchange ex = send("POST", "/v1/customers/attributes?id_type=" + percent_encode(id_type),
                       Json({{"ids", values}}).dump());
    l.call = ex.call;
    if (l.call.http_status == 400) {
        l.not_an_identifier = true;
        return l;
    }
    if (l.call.outcome != Outcome::success) {
        return l;
    }
    auto answer = Json::parse(ex.response.body, nullptr, false);
    if (answer.is_discarded() || !answer.is_object() || !answer.contains("customers") ||
        !answer["customers"].is_array()) {
        return unexpected_bulk(std::move(l));
    }
    // Several requests of one batch may name the same person: each gets the answer.
    std::unordered_map<std::string, std::vector<std::size_t>> index;
    for (std::size_t i = 0; i < values.size(); ++i) {
        index[match_key(id_type, values[i])].push_back(i);
    }
    for (const auto& customer : answer["customers"]) {
        const std::string cio_id = cio_id_of(customer);
        // A cio_id read answers the profile itself; the others name it by the type asked.
        const std::string value = id_type == "cio_id" ? cio_id : identifier_of(customer, id_type);
        auto at = index.find(match_key(id_type, value));
        if (cio_id.empty() || value.empty() || at == index.end()) {
            return unexpected_bulk(std::move(l));
        }
        for (std::size_t i : at->second) {
            auto& ids = l.cio_ids[i];
            if (std::find(ids.begin(), ids.end(), cio_id) == ids.end()) {
                ids.push_back(cio_id);
            }
        }
    }
    return l;
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
